/// What a flow field holds of the rig's geometry after the coarse model: `t + S·p + k·|p|²·p`, p
/// the position from the grid's centre in half-widths and S a scale and turn. The cubic term is
/// the difference of the two lenses' radial distortion (T's, and W's over the part of its frame
/// T sees), S what the coarse model, fitted to corners, left of the rig's scale and rotation.
///
/// Depth moves points along the baseline by amounts no such field explains over the whole
/// frame, and a near object's vectors are outliers to it: the fit is least squares reweighted by
/// Cauchy's function, so those barely pull it, each vector weighted as well by T's detail there
/// (a flat region's flow is only interpolated from its surroundings). A general affine S took
/// out a slanted wall's perspective too, but also a stereo pair's, whose backdrop the flow had
/// matched a period off: 6 % of its tiles ended worse than W's digital zoom.
struct LensResidual {
    /// Cauchy's scale in full-resolution pixels: a vector this far from the fit counts half.
    /// 0.5 to 4 px gave the same scores on captures of the training photos.
    static let cauchyScale: Float = 1
    static let iterations = 8
    /// The fit reads about this many vectors, on an even lattice: 5 unknowns need far fewer.
    static let samples = 4_096

    /// t_u, t_v, the scale's and the turn's displacement at p = (1, 0), k; then three zeros, so
    /// that one SIMD8 holds them. In grid pixels.
    private let coefficients: SIMD8<Double>
    private let grid: Size

    /// nil where no vector carries weight or the vectors do not fix the model (all at a point).
    /// `points` are flow vectors at grid `indices`; `cauchyScale` is in grid pixels.
    init?(fitting vectors: (points: [SIMD2<Float>], weights: [Float], indices: [Int]), grid: Size, cauchyScale: Float) {
        self.grid = grid
        let picked = vectors.weights.indices.filter { vectors.weights[$0] > 0 && all(vectors.points[$0] .== vectors.points[$0]) }
        guard let heaviest = picked.map({ vectors.weights[$0] }).max() else { return nil }
        let rows = picked.map { index in
            let i = vectors.indices[index]
            return Self.rows(at: Self.position(x: i % grid.width, y: i / grid.width, grid: grid))
        }
        // Weights up to 1, so that the solver's test for a singular system means the same for
        // every frame's detail.
        let flows = picked.map { SIMD2<Double>(vectors.points[$0]) }, detail = picked.map { Double(vectors.weights[$0] / heaviest) }
        let inverseSquaredScale = 1 / Double(cauchyScale * cauchyScale)
        // From the median offset: from none, Cauchy's weights would favour whichever vectors
        // happen to lie near zero; plain least squares first leaned on a stereo pair's near
        // plant and left 3.8 % of its tiles worse than W's digital zoom (2.5 % this way).
        var model = SIMD8(median(flows.map(\.x)), median(flows.map(\.y)), 0, 0, 0, 0, 0, 0), fitted = false
        for _ in 0..<Self.iterations {
            var equations = NormalEquations()
            for ((u, v), (flow, weight)) in zip(rows, zip(flows, detail)) {
                let error = flow - SIMD2((u * model).sum(), (v * model).sum())
                let w = weight / (1 + (error * error).sum() * inverseSquaredScale)
                // The residuals at zero unknowns: the step solved from there is the model itself.
                equations.add(u, residual: -flow.x, weight: w)
                equations.add(v, residual: -flow.y, weight: w)
            }
            guard let solved = equations.solved() else { break }
            (model, fitted) = (solved, true)
        }
        guard fitted else { return nil }
        coefficients = model
    }

    /// Takes out the part that changes across the grid. The translation stays: the focus plane's
    /// parallax, which the map measures from, holds it as well.
    func subtract(from flow: inout FlowField) {
        precondition(flow.size == grid, "the fit's grid \(grid) and the flow's \(flow.size) differ")
        var varying = coefficients
        (varying[0], varying[1]) = (0, 0)
        let width = grid.width
        for y in 0..<grid.height {
            for x in 0..<width {
                let (u, v) = Self.rows(at: Self.position(x: x, y: y, grid: grid))
                flow.u.pixels[y * width + x] -= Float((u * varying).sum())
                flow.v.pixels[y * width + x] -= Float((v * varying).sum())
            }
        }
    }

    /// Pixel (x, y)'s centre from the grid's centre, in half-widths.
    private static func position(x: Int, y: Int, grid: Size) -> SIMD2<Double> {
        (SIMD2(Double(x), Double(y)) + 0.5 - SIMD2(Double(grid.width), Double(grid.height)) / 2) / (Double(grid.width) / 2)
    }

    /// The model's two rows at p: u = rows.u · coefficients, v = rows.v · coefficients.
    private static func rows(at p: SIMD2<Double>) -> (u: SIMD8<Double>, v: SIMD8<Double>) {
        let cubic = (p * p).sum()
        return (SIMD8(1, 0, p.x, -p.y, cubic * p.x, 0, 0, 0), SIMD8(0, 1, p.y, p.x, cubic * p.y, 0, 0, 0))
    }
}
