/// Step 3 of the pipeline: the global translation of T against the source (W cropped to T's
/// calibrated field of view and resampled to T's size), and the evidence for it.
public struct CoarseAlignment: Sendable, Equatable {
    /// Full-resolution pixels from the source grid into the reference:
    /// reference(x + translation) ≈ source(x). Zero when nothing matched.
    public var translation: SIMD2<Double>
    /// Corner pairs that matched: mutual best, distinctive and well correlated.
    public var matches: Int
    /// Matches that agree with the consensus offset and refined to a sub-pixel offset; the
    /// translation is their median.
    public var inliers: Int
    /// Median distance of the inliers' offsets from the translation, full-resolution pixels:
    /// parallax plus matching noise. Infinite when there are no inliers.
    public var spread: Double
    /// Enough inliers that agree closely; when false the gate reports "alignment failed".
    public var isReliable: Bool
}

/// Finds the translation between source and reference from FAST corners matched by normalised
/// cross-correlation, robust to T's exposure difference, noise, W's blur, occluders and parallax.
///
/// Both planes are downsampled to a working width (the resampler low-passes, which also brings
/// W's blur and T's sharpness closer together) and lightly smoothed. Corners are matched within
/// the largest expected offset; the offset with the most matches around it wins; each of those
/// matches is refined to sub-pixel precision by Lucas–Kanade on mean-normalised patches, and the
/// translation is the median of the refined offsets.
public struct CoarseAligner: Sendable {
    /// Width of the planes that corners are found and matched on (no larger than the input).
    public var workingWidth: Int
    /// The largest translation searched, in x and in y, as a fraction of the width.
    public var maximumOffsetFraction: Double
    /// Fewer inliers than this make the alignment unreliable.
    public var minimumInliers: Int
    /// A spread above this fraction of the width makes the alignment unreliable. The default,
    /// 6 px at 12 MP, passes the few pixels by which parallax spreads a true alignment; a chance
    /// agreement of unrelated matches spreads over the whole inlier tolerance.
    public var maximumSpreadFraction: Double
    /// FAST's brightness step in luma units (on the smoothed working plane).
    public var cornerThreshold: Float

    public init(
        workingWidth: Int = 1024, maximumOffsetFraction: Double = 0.06, minimumInliers: Int = 12,
        maximumSpreadFraction: Double = 0.0015, cornerThreshold: Float = 0.02
    ) {
        self.workingWidth = workingWidth
        self.maximumOffsetFraction = maximumOffsetFraction
        self.minimumInliers = minimumInliers
        self.maximumSpreadFraction = maximumSpreadFraction
        self.cornerThreshold = cornerThreshold
    }

    public func align(source: Plane, reference: Plane) -> CoarseAlignment {
        precondition(source.size == reference.size, "source \(source.size) and reference \(reference.size) differ in size")
        let working = workingSize(for: source.size)
        let sourceLevel = workingLevel(source, size: working), referenceLevel = workingLevel(reference, size: working)
        let matches = mutualMatches(
            describedCorners(sourceLevel), describedCorners(referenceLevel),
            reach: searchReach(workingWidth: working.width))
        let refined = refinedOffsets(consensus(matches), source: sourceLevel, reference: referenceLevel)
        let fullResolutionScale = SIMD2(
            Double(source.width) / Double(working.width),
            Double(source.height) / Double(working.height))
        return summary(
            offsets: refined.map { SIMD2<Double>($0) * fullResolutionScale },
            matches: matches.count, width: source.width)
    }

    private func workingSize(for size: Size) -> Size {
        guard size.width > workingWidth else { return size }
        return Size(
            width: workingWidth,
            height: max(1, Int((Double(size.height * workingWidth) / Double(size.width)).rounded())))
    }

    /// The plane at the working size, smoothed so that noise neither fires the corner test nor
    /// jitters the patches. Smoothing is symmetric, so it moves nothing.
    private func workingLevel(_ plane: Plane, size: Size) -> Plane {
        let resized =
            size == plane.size
            ? plane
            : resample(plane, from: plane.size.bounds, to: size)
        return gaussianBlur(resized, sigma: Tuning.smoothingSigma)
    }

    private func describedCorners(_ level: Plane) -> NormalisedPatches {
        // The margin keeps each patch and its gradients inside the plane.
        let detector = FASTCornerDetector(
            threshold: cornerThreshold, cellsAcross: Tuning.cellsAcross,
            cornersPerCell: Tuning.cornersPerCell, margin: Patch.radius + 1)
        return NormalisedPatches(around: detector.corners(in: level), in: level)
    }

    /// How far apart, in x and in y, two corners may be to match, in working pixels. Corner
    /// positions jitter by a pixel or two, so an offset at the limit needs the slack.
    private func searchReach(workingWidth: Int) -> Int {
        Int((maximumOffsetFraction * Double(workingWidth)).rounded(.up) + Double(Tuning.inlierTolerance))
    }

    /// The median of the inliers' full-resolution offsets, their spread, and the verdict.
    private func summary(offsets: [SIMD2<Double>], matches: Int, width: Int) -> CoarseAlignment {
        guard !offsets.isEmpty else {
            return CoarseAlignment(translation: .zero, matches: matches, inliers: 0, spread: .infinity, isReliable: false)
        }
        let translation = SIMD2(median(offsets.map(\.x)), median(offsets.map(\.y)))
        let spread = median(offsets.map { distance($0, translation) })
        return CoarseAlignment(
            translation: translation, matches: matches, inliers: offsets.count, spread: spread,
            isReliable: offsets.count >= minimumInliers && spread <= maximumSpreadFraction * Double(width))
    }
}

/// The aligner's fixed choices, in one place.
private enum Tuning {
    /// Gaussian σ, in working pixels, applied before detection and matching.
    static let smoothingSigma = 1.0
    /// 12 × 9 cells on a 4:3 frame, up to 8 corners each: about 860 corners spread over the frame.
    static let cellsAcross = 12
    static let cornersPerCell = 8
    /// A match needs at least this correlation…
    static let minimumCorrelation: Float = 0.7
    /// …and must be clearly better than the runner-up: Lowe's ratio of patch distances.
    static let distinctivenessRatio: Float = 0.8
    /// Working pixels by which a match may differ from the consensus offset and still count:
    /// corner positions jitter by a pixel, and parallax adds a little.
    static let inlierTolerance: Float = 2
    /// Lucas–Kanade stops after this many steps, or once a step is shorter than `convergedStep`.
    static let maximumIterations = 10
    static let convergedStep: Float = 0.005
}

/// The square patches that corners are compared and tracked by.
private enum Patch {
    /// 17 × 17 working pixels: distinctive, yet small enough that parallax is constant across one.
    static let radius = 8
    static let side = 2 * radius + 1
    static let area = side * side
    /// Floats per stored patch: the area padded with zeros to whole SIMD vectors.
    static let stride = (area + 7) / 8 * 8
}

// MARK: - Matching

/// Mean-subtracted, unit-norm patches around corners, `Patch.stride` floats each, so that the dot
/// product of two is their normalised cross-correlation: blind to gain and offset. A flat patch is
/// all zeros and correlates with nothing.
private struct NormalisedPatches {
    let corners: [Corner]
    var values: [Float]

    init(around corners: [Corner], in plane: Plane) {
        self.corners = corners
        values = [Float](repeating: 0, count: corners.count * Patch.stride)
        plane.pixels.withUnsafeBufferPointer { pixels in
            values.withUnsafeMutableBufferPointer { values in
                let values = UncheckedSendable(values)
                parallelChunks(corners.count) { range in
                    for index in range {
                        let start = index * Patch.stride
                        let patch = UnsafeMutableBufferPointer(rebasing: values.value[start..<start + Patch.area])
                        copyPatch(pixels, width: plane.width, centre: corners[index], into: patch)
                        normalise(patch)
                    }
                }
            }
        }
    }
}

/// The dot product of two stored patches.
@inline(__always)
private func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
    let (a, b) = (UnsafeRawPointer(a), UnsafeRawPointer(b))
    var sum = SIMD8<Float>(repeating: 0)
    for byteOffset in stride(from: 0, to: Patch.stride * MemoryLayout<Float>.stride, by: MemoryLayout<SIMD8<Float>>.stride) {
        sum +=
            a.loadUnaligned(fromByteOffset: byteOffset, as: SIMD8<Float>.self)
            * b.loadUnaligned(fromByteOffset: byteOffset, as: SIMD8<Float>.self)
    }
    return sum.sum()
}

/// A source corner matched to a reference corner, and the offset between them in working pixels.
private struct CornerMatch {
    var source: Corner
    var offset: SIMD2<Float>
}

/// The best and second-best correlation of one patch among the candidates, and which was best.
private struct BestCandidates {
    var index = -1
    var best: Float = -1
    var second: Float = -1

    /// Lowe's ratio test on patch distances, √(2 − 2·correlation) for unit vectors.
    var isDistinctive: Bool {
        1 - best < Tuning.distinctivenessRatio * Tuning.distinctivenessRatio * (1 - second)
    }
}

/// Pairs that are each other's best candidate within `reach` working pixels, correlate well, and
/// are clearly better than the runner-up: repeated texture and occluders give no pair.
private func mutualMatches(_ source: NormalisedPatches, _ reference: NormalisedPatches, reach: Int) -> [CornerMatch] {
    let forward = bestCandidates(from: source, among: reference, reach: reach)
    let backward = bestCandidates(from: reference, among: source, reach: reach)
    return forward.indices.compactMap { index in
        let candidates = forward[index]
        guard candidates.index >= 0, backward[candidates.index].index == index,
            candidates.best >= Tuning.minimumCorrelation, candidates.isDistinctive
        else { return nil }
        let from = source.corners[index], to = reference.corners[candidates.index]
        return CornerMatch(source: from, offset: SIMD2(Float(to.x - from.x), Float(to.y - from.y)))
    }
}

/// For each patch of `patches`, its best candidates among `others` within `reach` in x and y.
/// There are under a thousand corners, so every pair is checked against the reach.
private func bestCandidates(
    from patches: NormalisedPatches, among others: NormalisedPatches,
    reach: Int
) -> [BestCandidates] {
    var result = [BestCandidates](repeating: BestCandidates(), count: patches.corners.count)
    patches.values.withUnsafeBufferPointer { mine in
        others.values.withUnsafeBufferPointer { theirs in
            result.withUnsafeMutableBufferPointer { result in
                let result = UncheckedSendable(result)
                parallelChunks(patches.corners.count) { range in
                    for index in range {
                        let corner = patches.corners[index]
                        var candidates = BestCandidates()
                        for (other, candidate) in others.corners.enumerated()
                        where abs(candidate.x - corner.x) <= reach && abs(candidate.y - corner.y) <= reach {
                            let score = dotProduct(
                                mine.baseAddress! + index * Patch.stride,
                                theirs.baseAddress! + other * Patch.stride)
                            if score > candidates.best {
                                candidates = BestCandidates(index: other, best: score, second: candidates.best)
                            } else {
                                candidates.second = max(candidates.second, score)
                            }
                        }
                        result.value[index] = candidates
                    }
                }
            }
        }
    }
    return result
}

/// The matches that agree with the most popular offset: each match's offset is a candidate, and
/// the one with the most matches within the tolerance wins. A one-point RANSAC tried on every
/// match, so it is deterministic; it survives far more outliers than a plain median.
private func consensus(_ matches: [CornerMatch]) -> [CornerMatch] {
    func agree(_ a: CornerMatch, _ b: CornerMatch) -> Bool {
        chebyshevDistance(a.offset, b.offset) <= Tuning.inlierTolerance
    }
    var bestSupport = 0, winner: CornerMatch?
    for candidate in matches {
        let support = matches.reduce(0) { $0 + (agree(candidate, $1) ? 1 : 0) }
        if support > bestSupport { (bestSupport, winner) = (support, candidate) }
    }
    guard let winner else { return [] }
    return matches.filter { agree(winner, $0) }
}

// MARK: - Sub-pixel refinement

/// Each inlier's offset refined to sub-pixel precision; inliers whose patch cannot pin an offset
/// (an edge: the aperture problem) or whose refinement wanders off are dropped.
private func refinedOffsets(_ inliers: [CornerMatch], source: Plane, reference: Plane) -> [SIMD2<Float>] {
    var refined = [SIMD2<Float>?](repeating: nil, count: inliers.count)
    source.pixels.withUnsafeBufferPointer { sourcePixels in
        reference.pixels.withUnsafeBufferPointer { referencePixels in
            refined.withUnsafeMutableBufferPointer { refined in
                let refined = UncheckedSendable(refined)
                parallelChunks(inliers.count) { range in
                    var tracker = PatchTracker(source: sourcePixels, reference: referencePixels, size: source.size)
                    for index in range { refined.value[index] = tracker.refine(inliers[index]) }
                }
            }
        }
    }
    return refined.compactMap { $0 }
}

/// Inverse-compositional Lucas–Kanade (Baker & Matthews 2004) for a translation, on mean-normalised
/// patches so that T's gain and offset do not matter. The source patch is the template; its
/// gradients and Hessian are computed once, and each step only resamples the reference.
/// Its buffers are reused from one patch to the next.
private struct PatchTracker {
    let source: UnsafeBufferPointer<Float>
    let reference: UnsafeBufferPointer<Float>
    let size: Size
    private var template: [Float]
    private var gradientX: [Float]
    private var gradientY: [Float]
    private var warped: [Float]

    init(source: UnsafeBufferPointer<Float>, reference: UnsafeBufferPointer<Float>, size: Size) {
        (self.source, self.reference, self.size) = (source, reference, size)
        template = [Float](repeating: 0, count: Patch.area)
        gradientX = template
        gradientY = template
        warped = template
    }

    /// The offset, near `match.offset`, at which the reference best matches the source patch.
    mutating func refine(_ match: CornerMatch) -> SIMD2<Float>? {
        guard let hessian = prepareTemplate(at: match.source) else { return nil }
        let corner = SIMD2(Float(match.source.x), Float(match.source.y))
        var offset = match.offset
        for _ in 0..<Tuning.maximumIterations {
            guard sampleReference(at: corner + offset) else { return nil }
            let step = hessian.solve(steepestDescentResidual())
            offset -= step
            guard chebyshevDistance(offset, match.offset) <= Tuning.inlierTolerance else { return nil }
            if (step * step).sum() < Tuning.convergedStep * Tuning.convergedStep { break }
        }
        return offset
    }

    /// Fills the normalised template and its gradients; returns the Gauss–Newton Hessian, or nil
    /// where the patch is flat or an edge (its smaller eigenvalue is tiny).
    private mutating func prepareTemplate(at corner: Corner) -> SymmetricMatrix? {
        let width = size.width
        let norm = template.withUnsafeMutableBufferPointer { template in
            copyPatch(source, width: width, centre: corner, into: template)
            return normalise(template)
        }
        guard norm > 0 else { return nil }
        var hessian = SymmetricMatrix()
        for row in 0..<Patch.side {
            let start = (corner.y + row - Patch.radius) * width + corner.x - Patch.radius
            for column in 0..<Patch.side {
                let pixel = start + column, index = row * Patch.side + column
                let gx = (source[pixel + 1] - source[pixel - 1]) / (2 * norm)
                let gy = (source[pixel + width] - source[pixel - width]) / (2 * norm)
                (gradientX[index], gradientY[index]) = (gx, gy)
                hessian.entries += SIMD3(gx * gx, gx * gy, gy * gy)
            }
        }
        return hessian.isWellConditioned ? hessian : nil
    }

    /// The reference patch centred at `position`, bilinear, normalised. The fraction is the same for
    /// every pixel of the patch, so the four weights are too. False where the patch leaves the
    /// reference or is flat.
    private mutating func sampleReference(at position: SIMD2<Float>) -> Bool {
        let origin = position.rounded(.down) - Float(Patch.radius)
        let fraction = position - position.rounded(.down)
        guard origin.x >= 0, origin.y >= 0, Int(origin.x) + Patch.side < size.width,
            Int(origin.y) + Patch.side < size.height
        else { return false }
        let width = size.width, top = Int(origin.y) * width + Int(origin.x)
        let weights = SIMD4(
            (1 - fraction.x) * (1 - fraction.y), fraction.x * (1 - fraction.y),
            (1 - fraction.x) * fraction.y, fraction.x * fraction.y)
        for row in 0..<Patch.side {
            for column in 0..<Patch.side {
                let pixel = top + row * width + column
                let taps = SIMD4(reference[pixel], reference[pixel + 1], reference[pixel + width], reference[pixel + width + 1])
                warped[row * Patch.side + column] = (taps * weights).sum()
            }
        }
        return warped.withUnsafeMutableBufferPointer { normalise($0) } > 0
    }

    /// Σ ∇template · (warped − template): the right-hand side of the Gauss–Newton step.
    private func steepestDescentResidual() -> SIMD2<Float> {
        var sum = SIMD2<Float>(repeating: 0)
        for index in 0..<warped.count {
            sum += SIMD2(gradientX[index], gradientY[index]) * (warped[index] - template[index])
        }
        return sum
    }
}

/// A symmetric 2 × 2 matrix: the Gauss–Newton Hessian of a translation.
private struct SymmetricMatrix {
    /// xx, xy, yy.
    var entries = SIMD3<Float>(repeating: 0)

    private var determinant: Float { entries.x * entries.z - entries.y * entries.y }

    /// Both eigenvalues comfortably above 0: the patch has texture in every direction.
    /// (det / trace² is about the ratio of the smaller eigenvalue to the larger.)
    var isWellConditioned: Bool {
        let trace = entries.x + entries.z
        return determinant > 0.01 * trace * trace
    }

    /// x with self · x = b (Cramer's rule).
    func solve(_ b: SIMD2<Float>) -> SIMD2<Float> {
        SIMD2(entries.z * b.x - entries.y * b.y, entries.x * b.y - entries.y * b.x) / determinant
    }
}

// MARK: - Helpers

/// The patch centred on `centre`, row by row.
private func copyPatch(
    _ pixels: UnsafeBufferPointer<Float>, width: Int, centre: Corner,
    into patch: UnsafeMutableBufferPointer<Float>
) {
    for row in 0..<Patch.side {
        let start = (centre.y + row - Patch.radius) * width + centre.x - Patch.radius
        for column in 0..<Patch.side { patch[row * Patch.side + column] = pixels[start + column] }
    }
}

/// Subtracts the mean and divides by the Euclidean norm of what remains, in place, and returns
/// that norm; a flat patch becomes all zeros and returns 0.
@discardableResult
private func normalise(_ values: UnsafeMutableBufferPointer<Float>) -> Float {
    let mean = values.reduce(0, +) / Float(values.count)
    var sumOfSquares: Float = 0
    for index in values.indices {
        values[index] -= mean
        sumOfSquares += values[index] * values[index]
    }
    let norm = sumOfSquares.squareRoot()
    guard norm > flatPatchNorm else {
        values.update(repeating: 0)
        return 0
    }
    for index in values.indices { values[index] /= norm }
    return norm
}

/// Below this norm (luma units over a whole patch) a patch is flat: noise, not texture.
private let flatPatchNorm: Float = 1e-3

private func chebyshevDistance(_ a: SIMD2<Float>, _ b: SIMD2<Float>) -> Float {
    let difference = a - b
    return max(abs(difference.x), abs(difference.y))
}

private func distance(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double {
    let difference = a - b
    return (difference * difference).sum().squareRoot()
}
