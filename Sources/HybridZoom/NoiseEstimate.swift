/// The noise of a frame and its mean luma, for the gate.
///
/// Noise is measured where the frame is flat, since texture is not noise: the frame is cut into
/// 16 × 16 blocks, and of those not near clipping (where noise is cut off), the flattest (lowest
/// gradient energy) 15 % are kept. On their pixels the residual of Immerkær's Laplacian-difference
/// mask (`[1 −2 1; −2 4 −2; 1 −2 1]`, which cancels any linear gradient) has, for white noise of
/// σ, a deviation of 6σ; its median absolute value, over 0.6745 (a Gaussian's median absolute
/// deviation), makes the estimate robust against the few edges that flat blocks still hold.
public enum NoiseEstimate {
    /// σ of `luma`'s noise, in luma units per pixel; 0 for a plane too small to tell (under
    /// 17 × 17).
    public static func sigma(of luma: Plane) -> Float { measure(luma).noise }

    /// Mean luma (over the 16 × 16 blocks that tile the frame) and σ of the noise.
    /// A frame as decoded is read a few rows at a time.
    static func measure<P: ReadablePlane>(_ luma: P) -> (meanLuma: Float, noise: Float) {
        guard luma.size.pixelCount > 0 else { return (0, 0) }
        return luma.withSourceRows { measure($0) }
    }

    private static func measure(_ luma: SourceRows) -> (meanLuma: Float, noise: Float) {
        let (width, height) = (luma.size.width, luma.size.height)
        guard width > block, height > block else {
            var sum: Float = 0
            for y in 0..<height { for x in 0..<width { sum += luma.at(x, y) } }
            return (sum / Float(width * height), 0)
        }
        let blocks = BlockStatistics(luma)
        let meanLuma = blocks.sums.reduce(0, +) / Float(blocks.sums.count * block * block)
        let flat = blocks.flattest(fraction: flatFraction, clipMargin: clipMargin, limit: maximumBlocks)
        let median = residualMedian(luma, blocks: flat, columns: blocks.columns)
        return (meanLuma, median / (0.6745 * 6) * selectionCorrection)
    }

    /// σ of the fine band of `luma` (`fineBand` of `sigma`) over its flattest blocks, robustly:
    /// the median absolute value over 0.6745, raised as the noise estimate is for the
    /// selection's bias. It measures noise whatever its spectrum (a camera's is not white after
    /// demosaicing and compression), where `sigma(of:)` assumes white. Only those blocks' band is
    /// made.
    static func bandDeviation(of luma: Plane, sigma: Double) -> Float {
        guard luma.width > block, luma.height > block else { return 0 }
        let blocks = luma.withSourceRows { BlockStatistics($0) }
        let flat = blocks.flattest(fraction: flatFraction, clipMargin: clipMargin, limit: maximumBlocks)
        guard !flat.isEmpty else { return 0 }
        let origins = flat.map { (x: $0 % blocks.columns * block, y: $0 / blocks.columns * block) }
        let band = fineBand(luma, sigma: sigma, blocks: origins, side: block)
        return Float(median(band.map { Double(abs($0)) })) / 0.6745 * selectionCorrection
    }

    static let block = 16
    /// The share of blocks kept as flat: few enough to avoid texture in most photos, enough
    /// (some 7 000 at 12 MP) for a stable median.
    static let flatFraction = 0.15
    /// Blocks whose mean is this close to 0 or 1 are left out: clipping removes their noise.
    static let clipMargin: Float = 0.02
    /// At most this many flat blocks (spread over the frame) are measured: 130 000 residuals pin
    /// the median down to about 0.3 %.
    static let maximumBlocks = 512
    /// The flattest blocks of pure noise are those where the noise happened to be weaker: by
    /// 9 % with 16 × 16 blocks and the flattest 15 % kept (measured on Gaussian noise of σ 0.002
    /// to 0.03 on planes from 1024 to 4032 px wide: 0.907 ± 0.004 of σ), so the estimate is
    /// raised by that much.
    static let selectionCorrection: Float = 1.10

    /// The median of |Immerkær residual| over the blocks' pixels (those not on the frame's edge),
    /// from a histogram: exact to 1/16384 of the range, without sorting. Each block is read with
    /// the pixel around it, 18 × 18, into a window of its own.
    private static func residualMedian(_ luma: SourceRows, blocks: [Int], columns: Int) -> Float {
        let bins = 16384, range: Float = 2, side = block + 2
        var histogram = [Int](repeating: 0, count: bins)
        let width = luma.size.width, height = luma.size.height
        withUnsafeTemporaryAllocation(of: Float.self, capacity: side * side) { window in
            for index in blocks {
                let x0 = (index % columns) * block, y0 = (index / columns) * block
                // The window's first row and column are those before the block, where there are.
                let left = max(x0 - 1, 0), top = max(y0 - 1, 0)
                let right = min(x0 + block + 1, width), bottom = min(y0 + block + 1, height)
                for y in top..<bottom {
                    for x in left..<right { window[(y - top) * side + x - left] = luma.at(x, y) }
                }
                let p = window.baseAddress!
                for y in max(y0, 1)..<min(y0 + block, height - 1) {
                    for x in max(x0, 1)..<min(x0 + block, width - 1) {
                        let centre = (y - top) * side + x - left
                        func second(_ row: Int) -> Float { p[row - 1] - 2 * p[row] + p[row + 1] }
                        let r = second(centre - side) - 2 * second(centre) + second(centre + side)
                        histogram[min(Int(abs(r) / range * Float(bins)), bins - 1)] += 1
                    }
                }
            }
        }
        let total = histogram.reduce(0, +)
        guard total > 0 else { return 0 }
        var below = 0
        for (bin, count) in histogram.enumerated() {
            if 2 * (below + count) >= total {
                // Linear within the bin.
                let fraction = Float(total - 2 * below) / Float(2 * max(count, 1))
                return (Float(bin) + fraction) * range / Float(bins)
            }
            below += count
        }
        return range
    }
}

/// Per 16 × 16 block: the sum of its pixels and its gradient energy (squared differences to the
/// right and downwards, 16 × 16 of each), eight lanes at a time, block rows spread over the cores.
private struct BlockStatistics {
    let columns: Int
    let rows: Int
    var sums: [Float]
    var energies: [Float]

    init(_ plane: SourceRows) {
        let block = NoiseEstimate.block, width = plane.size.width, height = plane.size.height
        let columns = width / block, rows = height / block
        var sums = [Float](repeating: 0, count: columns * rows), energies = sums
        sums.withUnsafeMutableBufferPointer { sums in
            energies.withUnsafeMutableBufferPointer { energies in
                let output = UncheckedSendable((sums, energies))
                parallelChunks(rows, itemCost: width * block) { blockRows in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: plane.converts ? 17 * width : 1) { scratch in
                        for by in blockRows {
                            // The 17 rows a block row reads: its own 16 and the one below, or
                            // the one above at the frame's bottom.
                            let top = min(by * block, height - 17)
                            let band = plane.rows(top..<(top + 17), scratch: scratch.baseAddress!)
                            for bx in 0..<columns {
                                let statistics = Self.block(band, width: width, x: bx * block, rowsAbove: by * block - top)
                                output.value.0[by * columns + bx] = statistics.sum
                                output.value.1[by * columns + bx] = statistics.energy
                            }
                        }
                    }
                }
            }
        }
        (self.columns, self.rows, self.sums, self.energies) = (columns, rows, sums, energies)
    }

    /// One block's sum, and its gradient energy over the 17 × 17 window from (x, the band's first
    /// row), moved left by one where the block touches the frame's right edge. `band` holds the
    /// 17 rows; the block's own begin `rowsAbove` rows down it.
    private static func block(_ p: UnsafePointer<Float>, width: Int, x: Int, rowsAbove: Int) -> (sum: Float, energy: Float) {
        func load(_ index: Int) -> SIMD8<Float> { UnsafeRawPointer(p + index).loadUnaligned(as: SIMD8<Float>.self) }
        let left = min(x, width - 17)
        var sum = SIMD8<Float>.zero, energy = SIMD8<Float>.zero
        for row in 0..<16 {
            let own = (rowsAbove + row) * width + x
            sum += load(own) + load(own + 8)
            let here = row * width + left
            for half in stride(from: 0, to: 16, by: 8) {
                let centre = load(here + half)
                let right = load(here + half + 1) - centre, down = load(here + width + half) - centre
                energy += right * right + down * down
            }
        }
        return (sum.sum(), energy.sum())
    }

    /// Indices of the flattest `fraction` of the blocks whose mean is not near clipping, at most
    /// `limit` of them, spread evenly over the frame.
    func flattest(fraction: Double, clipMargin: Float, limit: Int) -> [Int] {
        let area = Float(NoiseEstimate.block * NoiseEstimate.block)
        let candidates = sums.indices.filter { sums[$0] / area > clipMargin && sums[$0] / area < 1 - clipMargin }
        guard !candidates.isEmpty else { return [] }
        // The energy below which `fraction` of the candidates lie.
        let threshold = Float(quantile(candidates.map { Double(energies[$0]) }, fraction))
        let flat = candidates.filter { energies[$0] <= threshold }
        guard flat.count > limit else { return flat }
        return (0..<limit).map { flat[$0 * flat.count / limit] }
    }
}
