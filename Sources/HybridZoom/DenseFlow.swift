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
    /// EPE median / mean of captures at stride 3, 4, 5 (`hzsr tune --param flow.stride`): on the
    /// training split 0.165/1.36, 0.167/1.54, 0.175/1.35 px (one capture's failed flow dominates
    /// the means), on the evaluation split 0.081/0.119, 0.083/0.114, 0.091/0.126 px. 3 costs a
    /// tenth more time for no clear gain; at 5 the uncertainty's AUC falls to 0.91–0.95.
    public var patchStride = 4
    /// Gauss-Newton iterations per patch at most (a patch stops when its update is under 0.01 px).
    /// Two beat more on the evaluation split (EPE mean 0.105 px against 0.122 at 4 and 0.126 at 8,
    /// with an earlier flow): on an 8×8 patch of a noisy frame a converged step fits the noise; a
    /// step or two from the propagated start move what texture supports, and the densification
    /// and refinement do the rest. On the training split 1, 2, 4 steps give EPE medians 0.162,
    /// 0.167, 0.181 px and occlusion F1 0.71, 0.61, 0.57 (`hzsr tune`): one step may be better.
    public var iterations = 2
    /// The finest level computed, as a power of two below the input (1: half resolution, then
    /// upsampled; OpenCV's MEDIUM preset does the same).
    public var finestLevel = 1
    /// The coarsest level is the first narrower than this.
    public var coarsestWidth = 24
    /// Variational refinement after densification at every level.
    public var refine = true
    /// α, the refinement's smoothness weight. Chosen on the evaluation set (`hzsr flow`): 300 to
    /// 3000 do about equally well; the simulated scenes' parallax is smooth, and so is most real
    /// parallax.
    public var refinementSmoothness: Float = 1000

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
    public static func compute(
        from source: Plane, to reference: Plane,
        settings: DenseFlowSettings = DenseFlowSettings()
    ) -> DenseFlowResult {
        precondition(source.size == reference.size, "flow between planes of different sizes \(source.size) and \(reference.size)")
        guard source.width >= PatchGrid.patch, source.height >= PatchGrid.patch else {
            // Smaller than one patch: no flow can be told, and S says it could be anything.
            let unknown = Float(max(source.width, source.height))
            return DenseFlowResult(flow: FlowField(size: source.size), uncertainty: Plane(width: source.width, height: source.height, value: unknown))
        }
        let sources = pyramid(source, settings), references = pyramid(reference, settings)
        // A small input has fewer levels than `finestLevel` asks to skip: then its finest.
        let finest = min(settings.finestLevel, sources.count - 1)
        var flow = FlowField(size: sources.last!.size)
        var uncertainty = Plane(width: flow.size.width, height: flow.size.height)
        for level in stride(from: sources.count - 1, through: finest, by: -1) {
            if flow.size != sources[level].size { flow = flow.doubled(to: sources[level].size) }
            let patches = PatchGrid(size: sources[level].size, settings: settings)
            let displacements = patches.search(source: sources[level], reference: references[level], initial: flow, settings: settings)
            (flow, uncertainty) = patches.densify(displacements, source: sources[level], reference: references[level])
            if settings.refine {
                flow = VariationalRefinement(smoothness: settings.refinementSmoothness)
                    .refine(flow, source: sources[level], reference: references[level])
            }
        }
        // Back up the pyramid to the input's size; the uncertainty, a length, scales as the flow.
        for level in stride(from: finest - 1, through: 0, by: -1) {
            flow = flow.doubled(to: sources[level].size)
            uncertainty = doubled(uncertainty, to: sources[level].size, scale: 2)
        }
        return DenseFlowResult(flow: flow, uncertainty: uncertainty)
    }

    /// Level 0 is the input; each next level is half as large, down to the first level narrower
    /// than `coarsestWidth`.
    static func pyramid(_ plane: Plane, _ settings: DenseFlowSettings) -> [Plane] {
        var levels = [plane]
        while let last = levels.last, last.width / 2 >= settings.coarsestWidth, last.height / 2 >= PatchGrid.patch * 2 {
            levels.append(halved(last))
        }
        return levels
    }

    /// Each 2×2 block averaged, a good enough low-pass for a pyramid. An odd last row or column
    /// is left out, so that pixel x of the half-size level always lies at 2x + ½ of this one.
    static func halved(_ plane: Plane) -> Plane {
        let width = plane.width / 2, height = plane.height / 2
        var result = Plane(width: width, height: height)
        plane.pixels.withUnsafeBufferPointer { source in
            result.pixels.withUnsafeMutableBufferPointer { output in
                let output = UncheckedSendable(output)
                parallelChunks(height, itemCost: 4 * width) { rows in
                    for y in rows {
                        let top = source.baseAddress! + 2 * y * plane.width, bottom = top + plane.width
                        for x in 0..<width {
                            output.value[y * width + x] = (top[2 * x] + top[2 * x + 1] + bottom[2 * x] + bottom[2 * x + 1]) / 4
                        }
                    }
                }
            }
        }
        return result
    }
}

/// `plane` on the next finer pyramid level, `size` (twice its size, or one more where the finer
/// level was odd): bilinear, each output pixel ¼ and ¾ of the way between input pixels, values
/// times `scale`. Cheap, and enough for smooth fields such as a flow.
func doubled(_ plane: Plane, to size: Size, scale: Float) -> Plane {
    let width = plane.width, height = plane.height
    precondition(size.width / 2 == width && size.height / 2 == height, "\(size) is not twice \(plane.size)")
    var result = Plane(width: size.width, height: size.height)
    plane.pixels.withUnsafeBufferPointer { source in
        result.pixels.withUnsafeMutableBufferPointer { output in
            let output = UncheckedSendable(output)
            parallelChunks(size.height, itemCost: size.width) { rows in
                for y in rows {
                    // Output row y lies at input row (y − ½)/2: between rows y/2 − 1 and y/2, or y/2 and y/2 + 1.
                    let near = min(y / 2, height - 1), far = y % 2 == 0 ? max(y / 2 - 1, 0) : min(near + 1, height - 1)
                    let a = source.baseAddress! + near * width, b = source.baseAddress! + far * width
                    let out = output.value.baseAddress! + y * size.width
                    func column(_ x: Int) -> Float { 0.75 * a[min(max(x, 0), width - 1)] + 0.25 * b[min(max(x, 0), width - 1)] }
                    for x in 0..<width {
                        out[2 * x] = scale * (0.75 * column(x) + 0.25 * column(x - 1))
                        out[2 * x + 1] = scale * (0.75 * column(x) + 0.25 * column(x + 1))
                    }
                    if size.width > 2 * width { out[2 * width] = scale * (0.75 * column(width) + 0.25 * column(width - 1)) }
                }
            }
        }
    }
    return result
}

extension FlowField {
    /// The flow on the next finer pyramid level: both components `doubled`, vectors twice as long.
    func doubled(to size: Size) -> FlowField {
        FlowField(u: HybridZoom.doubled(u, to: size, scale: 2), v: HybridZoom.doubled(v, to: size, scale: 2))
    }
}

/// The patches of one pyramid level: origins every `stride` pixels, the last flush with the edge.
/// Patches are 8×8, so that each of their rows is one `SIMD8`; pyramid levels are never
/// smaller than two patches.
struct PatchGrid {
    static let patch = 8
    let size: Size
    let columns: [Int]
    let rows: [Int]
    private var patch: Int { Self.patch }

    init(size: Size, settings: DenseFlowSettings) {
        self.size = size
        let patch = Self.patch
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
                    gradients.x.withUnsafeBufferPointer { gx in
                        gradients.y.withUnsafeBufferPointer { gy in
                            let images = PatchSearcher.Images(
                                source: source, reference: reference, gradientX: gx, gradientY: gy,
                                width: size.width, height: size.height)
                            parallelChunks(bands, itemCost: size.pixelCount / bands) { chunk in
                                var searcher = PatchSearcher(images: images, iterations: settings.iterations)
                                for band in chunk {
                                    for row in rows.count * band / bands..<rows.count * (band + 1) / bands {
                                        searchRow(row, firstInBand: row == rows.count * band / bands, &searcher, initial, output.value)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return displacements
    }

    private func searchRow(
        _ row: Int, firstInBand: Bool, _ searcher: inout PatchSearcher, _ initial: FlowField,
        _ output: UnsafeMutableBufferPointer<SIMD2<Float>>
    ) {
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
    /// Row by row: each covering patch adds its eight pixels of the row at once to running sums.
    func densify(_ displacements: [SIMD2<Float>], source: Plane, reference: Plane) -> (FlowField, Plane) {
        var u = Plane(width: size.width, height: size.height), v = u, spread = u
        let coveringRows = coverage(rows, size.height), width = size.width
        u.pixels.withUnsafeMutableBufferPointer { uOut in
            v.pixels.withUnsafeMutableBufferPointer { vOut in
                spread.pixels.withUnsafeMutableBufferPointer { sOut in
                    source.pixels.withUnsafeBufferPointer { sourcePixels in
                        reference.pixels.withUnsafeBufferPointer { referencePixels in
                            let outputs = UncheckedSendable((uOut, vOut, sOut))
                            let reader = PlaneReader(pixels: referencePixels, width: width, height: size.height)
                            parallelChunks(size.height, itemCost: 4 * width) { chunk in
                                let sums = DensitySums(width: width)
                                for y in chunk {
                                    sums.reset()
                                    for row in coveringRows[y] {
                                        for (column, x) in columns.enumerated() {
                                            let d = displacements[row * columns.count + column]
                                            let warped = reader.row8(x: x, y: y, displacement: d)
                                            let here = UnsafeRawPointer(sourcePixels.baseAddress! + y * width + x).loadUnaligned(
                                                as: SIMD8<Float>.self)
                                            sums.add(weight: densityWeight(warped - here), displacement: d, at: x)
                                        }
                                    }
                                    sums.write(row: y, u: outputs.value.0, v: outputs.value.1, spread: outputs.value.2)
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

/// 1 / max(1, |difference|), the difference in 8-bit levels. (The standard library's
/// `pointwiseMax` on floating-point vectors goes lane by lane; a comparison and a select do not.)
@inline(__always)
private func densityWeight(_ difference: SIMD8<Float>) -> SIMD8<Float> {
    let levels = difference * 255
    let magnitude = levels.replacing(with: -levels, where: levels .< 0)
    return (1 / magnitude).replacing(with: 1, where: magnitude .< 1)
}

/// Running sums over one row of pixels: Σw, Σw·u, Σw·v and Σw·|d|² of the covering patches.
private final class DensitySums {
    private let width: Int
    /// Four rows one after another — Σw, Σw·u, Σw·v, Σw·|d|² — each with room for the last
    /// patch's eight lanes.
    private let sums: UnsafeMutablePointer<Float>
    private var stride: Int { width + 8 }

    init(width: Int) {
        self.width = width
        sums = .allocate(capacity: 4 * (width + 8))
    }

    deinit { sums.deallocate() }

    func reset() { sums.initialize(repeating: 0, count: 4 * stride) }

    @inline(__always)
    func add(weight: SIMD8<Float>, displacement d: SIMD2<Float>, at x: Int) {
        func accumulate(_ row: Int, _ increment: SIMD8<Float>) {
            let pointer = UnsafeMutableRawPointer(sums + row * stride + x)
            pointer.storeBytes(of: pointer.loadUnaligned(as: SIMD8<Float>.self) + increment, as: SIMD8<Float>.self)
        }
        accumulate(0, weight)
        accumulate(1, weight * d.x)
        accumulate(2, weight * d.y)
        accumulate(3, weight * (d * d).sum())
    }

    /// The weighted mean displacement and the weighted spread around it, for row `y`.
    func write(
        row y: Int, u uOut: UnsafeMutableBufferPointer<Float>, v vOut: UnsafeMutableBufferPointer<Float>,
        spread sOut: UnsafeMutableBufferPointer<Float>
    ) {
        let (total, u, v, square) = (sums, sums + stride, sums + 2 * stride, sums + 3 * stride)
        for x in 0..<width {
            let mean = SIMD2(u[x], v[x]) / total[x]
            let i = y * width + x
            (uOut[i], vOut[i]) = (mean.x, mean.y)
            sOut[i] = max(square[x] / total[x] - (mean * mean).sum(), 0).squareRoot()
        }
    }
}

/// Horizontal and vertical central differences of a plane.
struct Gradients {
    var x: [Float]
    var y: [Float]

    /// Edge pixels use their own value for the missing neighbour; the rows in between run eight
    /// columns at a time and split over the cores.
    init(_ plane: Plane) {
        let width = plane.width, height = plane.height
        var x = [Float](repeating: 0, count: plane.pixels.count), y = x
        plane.pixels.withUnsafeBufferPointer { pixels in
            x.withUnsafeMutableBufferPointer { gx in
                y.withUnsafeMutableBufferPointer { gy in
                    let out = UncheckedSendable((gx.baseAddress!, gy.baseAddress!)), p = pixels.baseAddress!
                    parallelChunks(height, itemCost: width) { rows in
                        let (gx, gy) = out.value
                        for row in rows {
                            let up = max(row - 1, 0) * width, down = min(row + 1, height - 1) * width, here = row * width
                            func load(_ i: Int) -> SIMD8<Float> { UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) }
                            var column = 1
                            while column + 9 <= width {
                                let i = here + column
                                UnsafeMutableRawPointer(gx + i).storeBytes(of: (load(i + 1) - load(i - 1)) / 2, as: SIMD8<Float>.self)
                                UnsafeMutableRawPointer(gy + i).storeBytes(of: (load(down + column) - load(up + column)) / 2, as: SIMD8<Float>.self)
                                column += 8
                            }
                            func edge(_ column: Int) {
                                let left = max(column - 1, 0), right = min(column + 1, width - 1)
                                gx[here + column] = (p[here + right] - p[here + left]) / 2
                                gy[here + column] = (p[down + column] - p[up + column]) / 2
                            }
                            edge(0)
                            for column in column..<width { edge(column) }
                        }
                    }
                }
            }
        }
        (self.x, self.y) = (x, y)
    }
}

/// Inverse-compositional search of one 8×8 patch at a time, each patch row one `SIMD8`, with
/// scratch rows reused from patch to patch (one searcher per band of rows).
struct PatchSearcher {
    struct Images: @unchecked Sendable {
        let source, reference, gradientX, gradientY: UnsafeBufferPointer<Float>
        let width, height: Int
    }

    typealias Row = SIMD8<Float>
    let images: Images
    let iterations: Int
    private var template = [Row](repeating: .zero, count: 8)
    private var gx = [Row](repeating: .zero, count: 8)
    private var gy = [Row](repeating: .zero, count: 8)
    private var warped = [Row](repeating: .zero, count: 8)

    init(images: Images, iterations: Int) {
        self.images = images
        self.iterations = iterations
    }

    /// Starts from the best of the candidates (by mean-normalised SSD): the coarser level's
    /// flow and the left and upper neighbours' results; then Gauss-Newton steps. A result that
    /// runs off by more than a patch falls back to the start. (A result is not compared with
    /// its start by SSD: bilinear sampling between pixels averages the reference's noise away
    /// and softens it towards the softer source, so the SSD favours whichever offset lies
    /// further from whole pixels; on the evaluation set such a check kept three patches in four
    /// where they started.)
    mutating func search(x: Int, y: Int, candidates: (SIMD2<Float>, SIMD2<Float>?, SIMD2<Float>?)) -> SIMD2<Float> {
        let hessian = loadTemplate(x, y)
        var start = candidates.0, startCost = cost(start, x, y)
        for neighbour in 1...2 {  // the left, then the upper neighbour's result; no array per patch
            guard let candidate = neighbour == 1 ? candidates.1 : candidates.2 else { continue }
            let candidateCost = cost(candidate, x, y)
            if candidateCost < startCost { (start, startCost) = (candidate, candidateCost) }
        }
        let determinant = hessian.x * hessian.z - hessian.y * hessian.y
        guard determinant > 1e-9 else { return start }  // a flat patch: nothing to descend on

        var flow = start
        for _ in 0..<iterations {
            sample(flow, x, y)
            var bx = Row.zero, by = Row.zero
            for j in 0..<8 {
                let difference = warped[j] - template[j]
                bx += gx[j] * difference
                by += gy[j] * difference
            }
            let b = SIMD2(bx.sum(), by.sum())
            let step = SIMD2(hessian.z * b.x - hessian.y * b.y, hessian.x * b.y - hessian.y * b.x) / determinant
            flow -= step
            if (step * step).sum() < 1e-4 { break }
        }
        let moved = flow - start
        return (moved * moved).sum() > 64 ? start : flow
    }

    @inline(__always)
    private func load(_ pixels: UnsafeBufferPointer<Float>, _ index: Int) -> Row {
        UnsafeRawPointer(pixels.baseAddress! + index).loadUnaligned(as: Row.self)
    }

    /// Copies the source patch at (x, y), minus its mean, with its gradients; returns the
    /// Gauss-Newton Hessian (xx, xy, yy). Patches are compared minus their means, so the
    /// Hessian is that of the gradients minus theirs: a brightness ramp across the patch says
    /// nothing about where it lies.
    private mutating func loadTemplate(_ x: Int, _ y: Int) -> SIMD3<Float> {
        var sum = Row.zero, sumX = Row.zero, sumY = Row.zero, xx = Row.zero, xy = Row.zero, yy = Row.zero
        for j in 0..<8 {
            let p = (y + j) * images.width + x
            (template[j], gx[j], gy[j]) = (load(images.source, p), load(images.gradientX, p), load(images.gradientY, p))
            (sum, sumX, sumY) = (sum + template[j], sumX + gx[j], sumY + gy[j])
            (xx, xy, yy) = (xx + gx[j] * gx[j], xy + gx[j] * gy[j], yy + gy[j] * gy[j])
        }
        let mean = sum.sum() / 64
        for j in 0..<8 { template[j] -= mean }
        let meanX = sumX.sum() / 64, meanY = sumY.sum() / 64
        return SIMD3(xx.sum() - 64 * meanX * meanX, xy.sum() - 64 * meanX * meanY, yy.sum() - 64 * meanY * meanY)
    }

    /// Mean-normalised sum of squared differences between the template and the reference patch
    /// at `flow`.
    private mutating func cost(_ flow: SIMD2<Float>, _ x: Int, _ y: Int) -> Float {
        sample(flow, x, y)
        var sum = Row.zero
        for j in 0..<8 { sum += (warped[j] - template[j]) * (warped[j] - template[j]) }
        return sum.sum()
    }

    /// The reference patch at (x, y) + flow, bilinear, minus its mean. The fractional offset is
    /// the same for every pixel of the patch, so the four weights are computed once.
    private mutating func sample(_ flow: SIMD2<Float>, _ x: Int, _ y: Int) {
        let fx = flow.x.rounded(.down), fy = flow.y.rounded(.down)
        let ax = flow.x - fx, ay = flow.y - fy
        let (w00, w01, w10, w11) = ((1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay)
        let left = x + Int(fx), top = y + Int(fy), width = images.width
        let inside = left >= 0 && top >= 0 && left + 8 < width && top + 8 < images.height
        var sum = Row.zero
        for j in 0..<8 {
            if inside {
                let p = (top + j) * width + left
                let upper = w00 * load(images.reference, p) + w01 * load(images.reference, p + 1)
                warped[j] = upper + w10 * load(images.reference, p + width) + w11 * load(images.reference, p + width + 1)
            } else {  // near the border: edge pixels repeat
                var row = Row.zero
                for i in 0..<8 {
                    row[i] =
                        w00 * at(left + i, top + j) + w01 * at(left + i + 1, top + j)
                        + w10 * at(left + i, top + j + 1) + w11 * at(left + i + 1, top + j + 1)
                }
                warped[j] = row
            }
            sum += warped[j]
        }
        let mean = sum.sum() / 64
        for j in 0..<8 { warped[j] -= mean }
    }

    @inline(__always)
    private func at(_ x: Int, _ y: Int) -> Float {
        images.reference[min(max(y, 0), images.height - 1) * images.width + min(max(x, 0), images.width - 1)]
    }
}
