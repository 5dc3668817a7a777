import Foundation
import HybridZoom

// Full-reference image quality: PSNR and SSIM of a plane against a reference, optionally weighted by
// a mask (for example "inside T's field of view"), and PSNR per tile for local comparisons.

/// Peak signal-to-noise ratio in dB for samples in [0, 1] (peak 1): 10·log10(1 / MSE).
///
/// `mask` weights each pixel's squared error (weights in [0, 1]; pixels with weight 0 are ignored).
/// Identical planes give `.infinity`; a mask that selects nothing gives `.nan`.
public func psnr(_ a: Plane, _ b: Plane, mask: Plane? = nil) -> Double {
    checkSizes(a, b, mask)
    let error = withSquaredError(a, b) { squaredError in
        withPixels(of: mask) { mask in
            parallelWeightedSum(
                width: a.width, rows: 0..<a.height, columns: 0..<a.width,
                mask: mask, value: squaredError)
        }
    }
    return psnr(meanSquaredError: error.mean)
}

/// Structural similarity (Wang et al. 2004) with the standard parameters: an 11-tap Gaussian window
/// of σ = 1.5, C1 = 0.01², C2 = 0.03² for samples in [0, 1].
///
/// The SSIM map covers the pixels whose whole window lies inside the image (5 pixels in from each
/// edge), as in the reference implementation; `mask` weights its mean there. Identical planes give 1;
/// a mask that selects nothing, or a plane too small for one window, gives `.nan`.
public func ssim(_ a: Plane, _ b: Plane, mask: Plane? = nil) -> Double {
    checkSizes(a, b, mask)
    let inset = LocalMoments.windowRadius
    guard a.width > 2 * inset, a.height > 2 * inset else { return .nan }
    let moments = LocalMoments(a, b)
    let similarity = moments.withSSIM { ssimAt in
        withPixels(of: mask) { mask in
            parallelWeightedSum(
                width: a.width, rows: inset..<(a.height - inset),
                columns: inset..<(a.width - inset), mask: mask, value: ssimAt)
        }
    }
    return similarity.mean
}

/// The PSNR of one square tile against the reference; `x`, `y` is the tile's top-left pixel.
public struct TileScore: Sendable, Equatable, Codable {
    public var x: Int
    public var y: Int
    public var psnr: Double

    public init(x: Int, y: Int, psnr: Double) {
        self.x = x
        self.y = y
        self.psnr = psnr
    }
}

/// PSNR of every whole `tile × tile` tile of `a` against `reference`, on a grid from the top-left
/// corner (partial tiles at the right and bottom edges are skipped).
///
/// Each tile's PSNR uses the same peak (1) and the same mask weighting as `psnr`, so tile and image
/// scores compare directly. With a mask, a tile counts only when at least `minimumCoverage` of its
/// pixels have mask ≥ 0.5, so that tiles mostly outside the masked region do not score on a few pixels.
public func tilePSNRs(
    _ a: Plane, _ reference: Plane, tile: Int = 64, mask: Plane? = nil,
    minimumCoverage: Double = 0.9
) -> [TileScore] {
    checkSizes(a, reference, mask)
    precondition(tile > 0, "tile size \(tile) is not positive")
    let columns = a.width / tile, rows = a.height / tile
    let requiredCoverage = minimumCoverage * Double(tile * tile)
    var scores = [TileScore?](repeating: nil, count: columns * rows)
    withSquaredError(a, reference) { squaredError in
        withPixels(of: mask) { mask in
            scores.withUnsafeMutableBufferPointer { scores in
                let scores = UncheckedSendable(scores)
                parallelChunks(columns * rows) { chunk in
                    for index in chunk {
                        let x = index % columns * tile, y = index / columns * tile
                        let error = weightedSum(
                            width: a.width, rows: y..<(y + tile), columns: x..<(x + tile),
                            mask: mask, value: squaredError)
                        guard error.weight > 0, error.coverage >= requiredCoverage else { continue }
                        scores.value[index] = TileScore(x: x, y: y, psnr: psnr(meanSquaredError: error.mean))
                    }
                }
            }
        }
    }
    return scores.compactMap { $0 }
}

/// The fraction (0…1) of the tiles scored in both lists, matched by position, where `method` is
/// more than `dB` below `baseline`; 0 when no tile is in both.
public func fractionWorse(_ method: [TileScore], than baseline: [TileScore], byMoreThan dB: Double) -> Double {
    let baselineByOrigin = Dictionary(
        baseline.map { (TileOrigin($0), $0.psnr) },
        uniquingKeysWith: { first, _ in first })
    let pairs = method.compactMap { score in
        baselineByOrigin[TileOrigin(score)].map { (method: score.psnr, baseline: $0) }
    }
    guard !pairs.isEmpty else { return 0 }
    return Double(pairs.count { $0.method < $0.baseline - dB }) / Double(pairs.count)
}

private struct TileOrigin: Hashable {
    let x: Int, y: Int
    init(_ score: TileScore) { (x, y) = (score.x, score.y) }
}

private func psnr(meanSquaredError mse: Double) -> Double {
    10 * log10(1 / mse)
}

private func checkSizes(_ a: Plane, _ b: Plane, _ mask: Plane?) {
    precondition(a.size == b.size, "cannot compare planes of different sizes \(a.size) and \(b.size)")
    precondition(
        mask.map { $0.size == a.size } ?? true,
        "mask \(mask?.size.description ?? "") does not match the planes' size \(a.size)")
}

/// Calls `body` with a function from pixel index to (a − b)², the pixel buffers pinned meanwhile.
private func withSquaredError<Result>(
    _ a: Plane, _ b: Plane,
    _ body: ((Int) -> Double) -> Result
) -> Result {
    a.pixels.withUnsafeBufferPointer { a in
        b.pixels.withUnsafeBufferPointer { b in
            body { index in
                let difference = Double(a[index]) - Double(b[index])
                return difference * difference
            }
        }
    }
}

private func withPixels<Result>(of plane: Plane?, _ body: (UnsafeBufferPointer<Float>?) -> Result) -> Result {
    guard let plane else { return body(nil) }
    return plane.pixels.withUnsafeBufferPointer { body($0) }
}

// MARK: - Mask-weighted sums

/// Over some pixels, with w the mask's weight (1 without a mask): Σ w·value, Σ w, and the number of
/// pixels with w ≥ 0.5.
private struct WeightedSum {
    var total = 0.0
    var weight = 0.0
    var coverage = 0.0

    var mean: Double { weight > 0 ? total / weight : .nan }

    static func + (a: WeightedSum, b: WeightedSum) -> WeightedSum {
        WeightedSum(total: a.total + b.total, weight: a.weight + b.weight, coverage: a.coverage + b.coverage)
    }
}

/// The weighted sum of `value(pixel index)` over `rows` × `columns` of a `width`-wide image.
private func weightedSum(
    width: Int, rows: Range<Int>, columns: Range<Int>,
    mask: UnsafeBufferPointer<Float>?, value: (Int) -> Double
) -> WeightedSum {
    var sum = WeightedSum()
    for y in rows {
        let indices = (y * width + columns.lowerBound)..<(y * width + columns.upperBound)
        guard let mask else {
            for index in indices { sum.total += value(index) }
            sum.weight += Double(indices.count)
            sum.coverage += Double(indices.count)
            continue
        }
        for index in indices where mask[index] > 0 {
            let weight = Double(mask[index])
            sum.total += weight * value(index)
            sum.weight += weight
            sum.coverage += weight >= 0.5 ? 1 : 0
        }
    }
    return sum
}

/// `weightedSum` with its rows spread over all cores. Rows are summed separately and then in order,
/// so the result does not depend on how the rows were split.
private func parallelWeightedSum(
    width: Int, rows: Range<Int>, columns: Range<Int>,
    mask: UnsafeBufferPointer<Float>?, value: (Int) -> Double
) -> WeightedSum {
    var rowSums = [WeightedSum](repeating: WeightedSum(), count: rows.count)
    rowSums.withUnsafeMutableBufferPointer { rowSums in
        let rowSums = UncheckedSendable(rowSums)
        parallelChunks(rows.count) { chunk in
            for row in chunk {
                let y = rows.lowerBound + row
                rowSums.value[row] = weightedSum(
                    width: width, rows: y..<(y + 1), columns: columns,
                    mask: mask, value: value)
            }
        }
    }
    return rowSums.reduce(WeightedSum(), +)
}

// MARK: - SSIM

/// Gaussian-weighted local means of a, b, a², b² and ab around every pixel: the five filtered
/// planes from which SSIM's local means, variances and covariance follow.
private struct LocalMoments {
    /// `gaussianBlur` reaches 3σ rounded up: 5 pixels, the standard 11-tap window.
    static let sigma = 1.5, windowRadius = 5

    let a: Plane, b: Plane, aa: Plane, bb: Plane, ab: Plane

    init(_ a: Plane, _ b: Plane) {
        self.a = gaussianBlur(a, sigma: Self.sigma)
        self.b = gaussianBlur(b, sigma: Self.sigma)
        aa = gaussianBlur(product(a, a), sigma: Self.sigma)
        bb = gaussianBlur(product(b, b), sigma: Self.sigma)
        ab = gaussianBlur(product(a, b), sigma: Self.sigma)
    }

    /// Calls `body` with a function from pixel index to that pixel's SSIM, the planes pinned meanwhile.
    func withSSIM<Result>(_ body: ((Int) -> Double) -> Result) -> Result {
        let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
        return a.pixels.withUnsafeBufferPointer { meanA in
            b.pixels.withUnsafeBufferPointer { meanB in
                aa.pixels.withUnsafeBufferPointer { meanAA in
                    bb.pixels.withUnsafeBufferPointer { meanBB in
                        ab.pixels.withUnsafeBufferPointer { meanAB in
                            body { i in
                                let muA = Double(meanA[i]), muB = Double(meanB[i])
                                let varianceA = Double(meanAA[i]) - muA * muA
                                let varianceB = Double(meanBB[i]) - muB * muB
                                let covariance = Double(meanAB[i]) - muA * muB
                                return (2 * muA * muB + c1) * (2 * covariance + c2)
                                    / ((muA * muA + muB * muB + c1) * (varianceA + varianceB + c2))
                            }
                        }
                    }
                }
            }
        }
    }
}

private func product(_ a: Plane, _ b: Plane) -> Plane {
    Plane(width: a.width, height: a.height, pixels: zip(a.pixels, b.pixels).map { $0 * $1 })
}
