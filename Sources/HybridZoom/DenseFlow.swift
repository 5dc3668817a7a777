import Foundation

/// Step 5: dense optical flow by inverse search (DIS, Kroeger et al. 2016), with a per-pixel
/// uncertainty.
///
/// Coarse to fine over an image pyramid; at each level, square patches on a regular grid each
/// find their displacement by inverse-compositional Gauss-Newton (the Hessian is the source
/// patch's, computed once), starting from the coarser level's flow or a neighbour's, whichever
/// matches better; then every pixel takes the patches covering it, weighted by how well each
/// explains it. Comparisons are mean-normalised per patch, so what is left of an exposure
/// difference after colour matching does not pull the flow.
///
/// The uncertainty S(x) is the weighted spread of the covering patches' displacements around
/// the pixel's flow: where patches agree the flow is well determined; where they disagree (an
/// occlusion, a repeated texture, no texture at all) it is not. It costs nothing extra, comes in
/// pixels, and needs no training, unlike the paper's predicted Laplacian variance.
public struct DenseFlowSettings: Sendable, Equatable {
    public var patchSize = 8
    /// Chosen on the evaluation set with `hzsr flow` (Scripts/compare-flow.py): stride 4 and 4
    /// iterations, with the variational refinement after them, were both faster and more
    /// accurate than stride 3 and 16 iterations.
    public var patchStride = 4
    /// Gauss-Newton iterations per patch at most (a patch stops when its update is under 0.01 px).
    public var iterations = 4
    /// The finest level computed, as a power of two below the input (1: half resolution, then
    /// upsampled; OpenCV's MEDIUM preset does the same).
    public var finestLevel = 1
    /// The coarsest level is the first narrower than this.
    public var coarsestWidth = 24
    /// Variational refinement after densification at every level.
    public var refine = true

    public init() {}
}

public struct DenseFlowResult: Sendable {
    /// source → reference: reference(x + flow(x)) ≈ source(x).
    public var flow: FlowField
    /// S(x) in pixels of this resolution.
    public var uncertainty: Plane
}

public enum DenseFlow {
    /// The flow from `source` to `reference` (same size).
    public static func compute(from source: Plane, to reference: Plane,
                               settings: DenseFlowSettings = DenseFlowSettings()) -> DenseFlowResult {
        precondition(source.size == reference.size, "flow between planes of different sizes \(source.size) and \(reference.size)")
        let sources = pyramid(source, settings), references = pyramid(reference, settings)
        var flow = FlowField(size: sources.last!.size)
        var uncertainty = Plane(width: flow.size.width, height: flow.size.height)
        for level in stride(from: sources.count - 1, through: settings.finestLevel, by: -1) {
            if flow.size != sources[level].size { flow = flow.resized(to: sources[level].size) }
            let patches = PatchGrid(size: sources[level].size, settings: settings)
            let displacements = patches.search(source: sources[level], reference: references[level], initial: flow, settings: settings)
            (flow, uncertainty) = patches.densify(displacements, source: sources[level], reference: references[level])
            if settings.refine { flow = VariationalRefinement().refine(flow, source: sources[level], reference: references[level]) }
        }
        guard flow.size != source.size else { return DenseFlowResult(flow: flow, uncertainty: uncertainty) }
        var upsampled = resample(uncertainty, from: Rect(x: 0, y: 0, width: Double(flow.size.width), height: Double(flow.size.height)),
                                 to: source.size)
        scale(&upsampled.pixels, by: Float(source.width) / Float(flow.size.width))  // a length in finer pixels
        return DenseFlowResult(flow: flow.resized(to: source.size), uncertainty: upsampled)
    }

    /// Level 0 is the input; each next level is half as large (antialiased), down to the first
    /// level narrower than `coarsestWidth`.
    static func pyramid(_ plane: Plane, _ settings: DenseFlowSettings) -> [Plane] {
        var levels = [plane]
        while let last = levels.last, last.width / 2 >= settings.coarsestWidth, last.height / 2 >= settings.patchSize * 2 {
            levels.append(resample(last, from: Rect(x: 0, y: 0, width: Double(last.width), height: Double(last.height)),
                                   to: Size(width: last.width / 2, height: last.height / 2)))
        }
        return levels
    }
}

/// The patches of one pyramid level: origins every `stride` pixels, the last flush with the edge.
struct PatchGrid {
    let size: Size
    let patch: Int
    let columns: [Int]
    let rows: [Int]

    init(size: Size, settings: DenseFlowSettings) {
        self.size = size
        let patch = min(settings.patchSize, size.width, size.height)
        self.patch = patch
        func origins(_ length: Int) -> [Int] {
            var result = Array(stride(from: 0, through: length - patch, by: settings.patchStride))
            if result.last! != length - patch { result.append(length - patch) }
            return result
        }
        columns = origins(size.width)
        rows = origins(size.height)
    }

    /// Each patch's displacement, row-major. Rows of patches are split into a fixed number of
    /// bands, each propagating from its left and upper neighbours, so the result does not depend
    /// on the number of cores.
    func search(source: Plane, reference: Plane, initial: FlowField, settings: DenseFlowSettings) -> [SIMD2<Float>] {
        let gradients = Gradients(source)
        var displacements = [SIMD2<Float>](repeating: .zero, count: rows.count * columns.count)
        let bands = min(8, rows.count)
        displacements.withUnsafeMutableBufferPointer { output in
            let output = UncheckedSendable(output)
            source.pixels.withUnsafeBufferPointer { source in
                reference.pixels.withUnsafeBufferPointer { reference in
                    parallelChunks(bands, itemCost: size.pixelCount / bands) { chunk in
                        var searcher = PatchSearcher(source: source, reference: reference, gradients: gradients,
                                                     width: size.width, height: size.height, patch: patch, iterations: settings.iterations)
                        for band in chunk {
                            for row in rows.count * band / bands ..< rows.count * (band + 1) / bands {
                                searchRow(row, firstInBand: row == rows.count * band / bands, &searcher, initial, output.value)
                            }
                        }
                    }
                }
            }
        }
        return displacements
    }

    private func searchRow(_ row: Int, firstInBand: Bool, _ searcher: inout PatchSearcher, _ initial: FlowField,
                           _ output: UnsafeMutableBufferPointer<SIMD2<Float>>) {
        let y = rows[row], centre = patch / 2
        for (column, x) in columns.enumerated() {
            let own = SIMD2(initial.u[x + centre, y + centre], initial.v[x + centre, y + centre])
            let left = column > 0 ? output[row * columns.count + column - 1] : nil
            let up = firstInBand ? nil : output[(row - 1) * columns.count + column]
            output[row * columns.count + column] = searcher.search(x: x, y: y, candidates: (own, left, up))
        }
    }

    /// Every pixel's flow: the covering patches' displacements weighted by 1 / max(1, |error|)
    /// (error in 8-bit levels, as in the paper), and their weighted spread as the uncertainty.
    func densify(_ displacements: [SIMD2<Float>], source: Plane, reference: Plane) -> (FlowField, Plane) {
        var u = Plane(width: size.width, height: size.height), v = u, spread = u
        let cover = (x: coverage(columns, size.width), y: coverage(rows, size.height))
        u.pixels.withUnsafeMutableBufferPointer { uOut in
            v.pixels.withUnsafeMutableBufferPointer { vOut in
                spread.pixels.withUnsafeMutableBufferPointer { sOut in
                    source.pixels.withUnsafeBufferPointer { sourcePixels in
                        reference.pixels.withUnsafeBufferPointer { referencePixels in
                            let outputs = UncheckedSendable((uOut, vOut, sOut))
                            let reader = PlaneReader(pixels: referencePixels, width: size.width, height: size.height)
                            parallelChunks(size.height, itemCost: 4 * size.width) { chunk in
                                for y in chunk {
                                    for x in 0..<size.width {
                                        var total: Float = 0, mean = SIMD2<Float>.zero, square: Float = 0
                                        let value = sourcePixels[y * size.width + x]
                                        for row in cover.y[y] {
                                            for column in cover.x[x] {
                                                let d = displacements[row * columns.count + column]
                                                let error = abs(reader.bilinear(Float(x) + d.x, Float(y) + d.y) - value) * 255
                                                let weight = 1 / max(1, error)
                                                total += weight
                                                mean += weight * d
                                                square += weight * (d * d).sum()
                                            }
                                        }
                                        mean /= total
                                        let i = y * size.width + x
                                        outputs.value.0[i] = mean.x
                                        outputs.value.1[i] = mean.y
                                        outputs.value.2[i] = max(square / total - (mean * mean).sum(), 0).squareRoot()
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (FlowField(u: u, v: v), spread)
    }

    /// For each pixel index along an axis, the range of patch indices whose patch covers it.
    private func coverage(_ origins: [Int], _ length: Int) -> [ClosedRange<Int>] {
        (0..<length).map { p in
            let first = origins.firstIndex { $0 + patch > p }!
            let last = origins.lastIndex { $0 <= p }!
            return first...last
        }
    }
}

/// Horizontal and vertical central differences of a plane.
struct Gradients {
    var x: [Float]
    var y: [Float]

    init(_ plane: Plane) {
        let width = plane.width, height = plane.height
        x = [Float](repeating: 0, count: plane.pixels.count)
        y = x
        for row in 0..<height {
            let up = max(row - 1, 0) * width, down = min(row + 1, height - 1) * width, here = row * width
            for column in 0..<width {
                let left = max(column - 1, 0), right = min(column + 1, width - 1)
                x[here + column] = (plane.pixels[here + right] - plane.pixels[here + left]) / 2
                y[here + column] = (plane.pixels[down + column] - plane.pixels[up + column]) / 2
            }
        }
    }
}

/// Inverse-compositional search of one patch at a time, with scratch buffers reused from patch
/// to patch (one searcher per band of rows).
struct PatchSearcher {
    let source: UnsafeBufferPointer<Float>
    let reference: UnsafeBufferPointer<Float>
    let gradients: Gradients
    let width: Int
    let height: Int
    let patch: Int
    let iterations: Int
    private var template: [Float]
    private var gx: [Float]
    private var gy: [Float]
    private var warped: [Float]

    init(source: UnsafeBufferPointer<Float>, reference: UnsafeBufferPointer<Float>, gradients: Gradients,
         width: Int, height: Int, patch: Int, iterations: Int) {
        (self.source, self.reference, self.gradients) = (source, reference, gradients)
        (self.width, self.height, self.patch, self.iterations) = (width, height, patch, iterations)
        template = [Float](repeating: 0, count: patch * patch)
        (gx, gy, warped) = (template, template, template)
    }

    /// Starts from the best of the candidates (by mean-normalised SSD): the coarser level's
    /// flow and the left and upper neighbours' results; then Gauss-Newton steps. A result that
    /// ends up matching worse than its start, or runs off by more than a patch, falls back to it.
    mutating func search(x: Int, y: Int, candidates: (SIMD2<Float>, SIMD2<Float>?, SIMD2<Float>?)) -> SIMD2<Float> {
        let hessian = loadTemplate(x, y)
        var start = candidates.0, startCost = cost(start, x, y)
        for candidate in [candidates.1, candidates.2] {
            guard let candidate else { continue }
            let candidateCost = cost(candidate, x, y)
            if candidateCost < startCost { (start, startCost) = (candidate, candidateCost) }
        }
        let determinant = hessian.x * hessian.z - hessian.y * hessian.y
        guard determinant > 1e-9 else { return start }  // a flat patch: nothing to descend on

        var flow = start
        for _ in 0..<iterations {
            sample(flow, x, y)
            var b = SIMD2<Float>.zero
            for k in warped.indices { b += SIMD2(gx[k], gy[k]) * (warped[k] - template[k]) }
            let step = SIMD2(hessian.z * b.x - hessian.y * b.y, hessian.x * b.y - hessian.y * b.x) / determinant
            flow -= step
            if (step * step).sum() < 1e-4 { break }
        }
        let moved = flow - start
        if (moved * moved).sum() > Float(patch * patch) { return start }
        return cost(flow, x, y) <= startCost ? flow : start
    }

    /// Copies the source patch at (x, y), minus its mean, with its gradients; returns the
    /// Gauss-Newton Hessian (xx, xy, yy).
    private mutating func loadTemplate(_ x: Int, _ y: Int) -> SIMD3<Float> {
        var hessian = SIMD3<Float>.zero, sum: Float = 0
        for j in 0..<patch {
            for i in 0..<patch {
                let k = j * patch + i, p = (y + j) * width + x + i
                template[k] = source[p]
                sum += source[p]
                (gx[k], gy[k]) = (gradients.x[p], gradients.y[p])
                hessian += SIMD3(gx[k] * gx[k], gx[k] * gy[k], gy[k] * gy[k])
            }
        }
        let mean = sum / Float(template.count)
        for k in template.indices { template[k] -= mean }
        return hessian
    }

    /// Mean-normalised sum of squared differences between the template and the reference patch
    /// at `flow`.
    private mutating func cost(_ flow: SIMD2<Float>, _ x: Int, _ y: Int) -> Float {
        sample(flow, x, y)
        var sum: Float = 0
        for k in warped.indices { sum += (warped[k] - template[k]) * (warped[k] - template[k]) }
        return sum
    }

    /// The reference patch at (x, y) + flow, bilinear, minus its mean. The fractional offset is
    /// the same for every pixel of the patch, so the four weights are computed once.
    private mutating func sample(_ flow: SIMD2<Float>, _ x: Int, _ y: Int) {
        let fx = flow.x.rounded(.down), fy = flow.y.rounded(.down)
        let ax = flow.x - fx, ay = flow.y - fy
        let w = SIMD4((1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay)
        let left = x + Int(fx), top = y + Int(fy)
        let inside = left >= 0 && top >= 0 && left + patch < width && top + patch < height
        var sum: Float = 0
        for j in 0..<patch {
            for i in 0..<patch {
                let value: Float
                if inside {
                    let p = (top + j) * width + left + i
                    value = w.x * reference[p] + w.y * reference[p + 1] + w.z * reference[p + width] + w.w * reference[p + width + 1]
                } else {
                    value = w.x * at(left + i, top + j) + w.y * at(left + i + 1, top + j)
                        + w.z * at(left + i, top + j + 1) + w.w * at(left + i + 1, top + j + 1)
                }
                warped[j * patch + i] = value
                sum += value
            }
        }
        let mean = sum / Float(warped.count)
        for k in warped.indices { warped[k] -= mean }
    }

    @inline(__always)
    private func at(_ x: Int, _ y: Int) -> Float {
        reference[min(max(y, 0), height - 1) * width + min(max(x, 0), width - 1)]
    }
}
