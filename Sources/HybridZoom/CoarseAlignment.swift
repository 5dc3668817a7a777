/// Step 3 of the pipeline: how T's view differs from the source (W cropped to T's calibrated
/// field of view and resampled to T's size) as a whole, and the evidence for it.
///
/// Real rigs differ from their calibration by a little rotation and scale, and planar scenes or
/// a turning camera add perspective; so the model is a similarity, upgraded to a homography
/// when the matches ask for one. Parallax is whatever the model leaves, for the dense flow.
public struct CoarseAlignment: Sendable, Equatable {
    /// `translation` when the matches that fit lie too close together to pin a turn or a scale
    /// (a macro shot sharp only on its subject): T's calibrated geometry stands, moved by their
    /// median, and the dense flow takes what is left.
    public enum Model: String, Sendable, Codable { case translation, similarity, homography }

    /// Full-resolution source grid → reference grid: reference(transform(x)) ≈ source(x).
    /// The identity when nothing matched.
    public var transform: Homography
    /// The similarity closest to the same matches: how T is turned, scaled and moved against its
    /// calibration, without the perspective a homography may also take from a slanted scene.
    public var similarity: Homography
    public var model: Model
    /// The displacement at the frame's centre, full-resolution pixels.
    public var translation: SIMD2<Double>
    /// The transform's scale and rotation (degrees) at the frame's centre: T against its calibration.
    public var scale: Double
    public var rotation: Double
    /// Corner pairs that matched: mutual best, distinctive and well correlated.
    public var matches: Int
    /// Matches the model explains (after sub-pixel refinement), and their share of the matches.
    public var inliers: Int
    public var inlierShare: Double
    /// Median distance of the inliers from the model, full-resolution pixels: parallax plus
    /// matching noise. Infinite when there are no inliers.
    public var spread: Double
    /// Why the model cannot be trusted, as the gate reports it; nil when it can (enough inliers,
    /// a large enough share of the matches, a plausible geometry).
    public var problem: String?

    public var isReliable: Bool { problem == nil }
}

/// Finds the geometric model between source and reference from FAST corners matched by
/// normalised cross-correlation, robust to T's exposure difference, noise, W's blur, occluders
/// and parallax.
///
/// Both planes are downsampled to a working width (the resampler low-passes, which also brings
/// W's blur and T's sharpness closer together) and lightly smoothed. Corners are matched within
/// the largest expected displacement; a similarity is fitted to the matches by RANSAC, then, when
/// a homography explains clearly more of them, by a homography; each inlier is refined to
/// sub-pixel precision by Lucas–Kanade on mean-normalised patches, and the model fitted again to
/// the refined matches by least squares.
public struct CoarseAligner: Sendable {
    /// Width of the planes that corners are found and matched on (no larger than the input).
    public var workingWidth: Int
    /// The largest translation searched, in x and in y, as a fraction of the width.
    public var maximumOffsetFraction: Double
    /// How much further rotation, scale and perspective may move a corner, as a fraction of the width.
    public var maximumWarpFraction: Double
    /// Fewer inliers than this make the alignment unreliable.
    public var minimumInliers: Int
    /// A smaller share of the matches explained by the model makes it unreliable: a chance
    /// agreement of unrelated matches explains few of them, a true one most of those on the
    /// dominant depth.
    public var minimumInlierShare: Double
    /// The inliers must spread over at least this fraction of the frame's width and height to
    /// pin a rotation and a scale: a cluster in one corner only pins a translation.
    public var minimumInlierExtent: Double
    /// A scale outside 1/r…r or a rotation beyond this many degrees is no rig's.
    public var maximumScale: Double
    public var maximumRotation: Double
    /// FAST's brightness step in luma units (on the smoothed working plane).
    public var cornerThreshold: Float

    public init(
        workingWidth: Int = 1024, maximumOffsetFraction: Double = 0.06, maximumWarpFraction: Double = 0.1,
        minimumInliers: Int = 12, minimumInlierShare: Double = 0.3, minimumInlierExtent: Double = 0.3,
        maximumScale: Double = 1.5, maximumRotation: Double = 15, cornerThreshold: Float = 0.02
    ) {
        self.workingWidth = workingWidth
        self.maximumOffsetFraction = maximumOffsetFraction
        self.maximumWarpFraction = maximumWarpFraction
        self.minimumInliers = minimumInliers
        self.minimumInlierShare = minimumInlierShare
        self.minimumInlierExtent = minimumInlierExtent
        self.maximumScale = maximumScale
        self.maximumRotation = maximumRotation
        self.cornerThreshold = cornerThreshold
    }

    public func align(source: Plane, reference: Plane) -> CoarseAlignment {
        precondition(source.size == reference.size, "source \(source.size) and reference \(reference.size) differ in size")
        let working = workingSize(for: source.size)
        let sourceLevel = workingLevel(source, size: working), referenceLevel = workingLevel(reference, size: working)
        let matches = mutualMatches(
            describedCorners(sourceLevel), describedCorners(referenceLevel),
            reach: searchReach(workingWidth: working.width))
        let fit = RobustFit(matches: matches, frame: working, maximumScale: maximumScale, maximumRotation: maximumRotation).run()
        let refined = refinedMatches(fit.inliers, source: sourceLevel, reference: referenceLevel)
        return summary(refined, model: fit.model, matches: matches.count, working: working, full: source.size)
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
    /// positions jitter by a pixel or two, so a displacement at the limit needs the slack.
    private func searchReach(workingWidth: Int) -> Int {
        Int(((maximumOffsetFraction + maximumWarpFraction) * Double(workingWidth)).rounded(.up) + Double(Tuning.inlierTolerance))
    }

    /// The model fitted to the refined inliers at full resolution, and the verdict.
    private func summary(
        _ refined: [PointMatch], model: CoarseAlignment.Model, matches: Int, working: Size, full: Size
    )
        -> CoarseAlignment
    {
        let toFull = (x: Double(full.width) / Double(working.width), y: Double(full.height) / Double(working.height))
        let sources = refined.map { SIMD2($0.source.x * toFull.x, $0.source.y * toFull.y) }
        let targets = refined.map { SIMD2($0.target.x * toFull.x, $0.target.y * toFull.y) }
        let extent = Extent(sources)
        let clustered = extent.width < minimumInlierExtent * Double(full.width) || extent.height < minimumInlierExtent * Double(full.height)
        let model = clustered && !sources.isEmpty ? .translation : model
        let fitted =
            switch model {
            case .translation: Homography.fitTranslation(sources, targets)
            case .similarity: Homography.fitSimilarity(sources, targets)
            case .homography: Homography.fitProjective(sources, targets)
            }
        guard let transform = fitted, let similarity = model == .translation ? transform : Homography.fitSimilarity(sources, targets) else {
            return CoarseAlignment(
                transform: .identity, similarity: .identity, model: model, translation: .zero, scale: 1, rotation: 0, matches: matches, inliers: 0,
                inlierShare: 0, spread: .infinity, problem: "no model fits the \(matches) corner matches")
        }
        let centre = SIMD2(Double(full.width), Double(full.height)) / 2
        let local = transform.localScaleAndRotation(at: centre)
        let residuals = zip(sources, targets).map { distance(transform.apply($0), $1) }
        let share = Double(refined.count) / Double(max(matches, 1))
        let degrees = local.rotation * 180 / .pi
        let problem: String? =
            if refined.count < minimumInliers {
                "\(refined.count) of \(matches) corner matches fit, below \(minimumInliers)"
            } else if share < minimumInlierShare {
                String(format: "%d of %d corner matches fit (%.0f %%), below %.0f %%", refined.count, matches, share * 100, minimumInlierShare * 100)
            } else if !(1 / maximumScale...maximumScale).contains(local.scale) || abs(degrees) > maximumRotation {
                String(format: "T is scaled by %.3f and turned by %.1f°, beyond a rig's", local.scale, degrees)
            } else {
                nil
            }
        return CoarseAlignment(
            transform: transform, similarity: similarity, model: model, translation: transform.apply(centre) - centre, scale: local.scale,
            rotation: degrees, matches: matches, inliers: refined.count, inlierShare: share,
            spread: median(residuals), problem: problem)
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
    /// Working pixels by which a match may miss the model and still count: corner positions
    /// jitter by a pixel, and parallax and W's lens distortion (which no similarity or
    /// homography takes out) add one or two. At 2, a fifth of the tethered simulator's training
    /// captures kept too few inliers (4 of 20 skipped; 0 at 3, with the translation fallback).
    static let inlierTolerance: Float = 3
    /// RANSAC draws this many pairs of matches (all pairs when there are fewer).
    static let samples = 600
    /// The two matches of a sample must lie this fraction of the width apart, or the rotation
    /// and scale they give are noise.
    static let minimumSampleSeparation = 0.08
    /// A homography replaces the similarity when it explains this many times as many matches
    /// (and at least `homographyMargin` more).
    static let homographyGain = 1.1
    static let homographyMargin = 6
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

/// A point of the source and where it lies in the reference, in continuous working coordinates.
private struct PointMatch {
    var source: SIMD2<Double>
    var target: SIMD2<Double>
}

/// The bounding box of some points.
private struct Extent {
    let width: Double
    let height: Double

    init(_ points: [SIMD2<Double>]) {
        guard let first = points.first else {
            (width, height) = (0, 0)
            return
        }
        let (low, high) = points.reduce((first, first)) { (pointwiseMin($0.0, $1), pointwiseMax($0.1, $1)) }
        (width, height) = (high.x - low.x, high.y - low.y)
    }
}

// MARK: - Robust model fit

/// RANSAC on pairs of matches for a similarity (each pair fixes one), each candidate refitted to
/// its inliers; then a homography fitted to those and grown the same way, kept when it explains
/// clearly more. Samples come from a fixed seed, so the same matches give the same model.
private struct RobustFit {
    let points: [PointMatch]
    let matches: [CornerMatch]
    let frame: Size
    let maximumScale: Double
    let maximumRotation: Double

    init(matches: [CornerMatch], frame: Size, maximumScale: Double, maximumRotation: Double) {
        self.matches = matches
        points = matches.map { match in
            let source = SIMD2(Double(match.source.x) + 0.5, Double(match.source.y) + 0.5)
            return PointMatch(source: source, target: source + SIMD2<Double>(match.offset))
        }
        (self.frame, self.maximumScale, self.maximumRotation) = (frame, maximumScale, maximumRotation)
    }

    func run() -> (model: CoarseAlignment.Model, inliers: [CornerMatch]) {
        guard var similarity = bestSimilarity() else { return (.similarity, []) }
        similarity = grown(similarity, fit: Homography.fitSimilarity)
        let similarityInliers = inliers(of: similarity)
        if similarityInliers.count >= 8 {
            let projective = grown(similarity, fit: Homography.fitProjective)
            let projectiveInliers = inliers(of: projective)
            let needed = max(Int(Double(similarityInliers.count) * Tuning.homographyGain), similarityInliers.count + Tuning.homographyMargin)
            if projectiveInliers.count >= needed, isPlausible(projective) {
                return (.homography, projectiveInliers.map { matches[$0] })
            }
        }
        return (.similarity, similarityInliers.map { matches[$0] })
    }

    /// The similarity from the sample of two matches with the most inliers.
    private func bestSimilarity() -> Homography? {
        guard points.count >= 2 else { return nil }
        var random = SeededRandom(seed: 0x5EED)
        let separation = Tuning.minimumSampleSeparation * Double(frame.width)
        let allPairs = points.count * (points.count - 1) / 2 <= Tuning.samples
        var best: (model: Homography, count: Int)?
        var pairs = allPairs ? (0..<points.count).flatMap { i in ((i + 1)..<points.count).map { (i, $0) } } : []
        if !allPairs {
            pairs = (0..<Tuning.samples).map { _ in
                let i = Int(random.next() % UInt64(points.count)), j = Int(random.next() % UInt64(points.count - 1))
                return (i, j >= i ? j + 1 : j)
            }
        }
        for (i, j) in pairs where distance(points[i].source, points[j].source) >= separation {
            guard
                let model = Homography.fitSimilarity([points[i].source, points[j].source], [points[i].target, points[j].target]),
                isPlausible(model)
            else { continue }
            let count = inliers(of: model).count
            if count > best?.count ?? 0 { best = (model, count) }
        }
        return best?.model
    }

    /// The model refitted to its own inliers until they stop growing (a few rounds at most).
    private func grown(_ start: Homography, fit: ([SIMD2<Double>], [SIMD2<Double>]) -> Homography?) -> Homography {
        var model = start, count = inliers(of: start).count
        for _ in 0..<4 {
            let chosen = inliers(of: model)
            guard let refitted = fit(chosen.map { points[$0].source }, chosen.map { points[$0].target }) else { break }
            let refittedCount = inliers(of: refitted).count
            guard refittedCount >= count else { break }
            (model, count) = (refitted, refittedCount)
        }
        return model
    }

    private func inliers(of model: Homography) -> [Int] {
        points.indices.filter { distance(model.apply(points[$0].source), points[$0].target) <= Double(Tuning.inlierTolerance) }
    }

    /// A rig's geometry: scale within 1/`maximumScale`…`maximumScale` and rotation within
    /// `maximumRotation` degrees at the centre and at each corner of the frame.
    private func isPlausible(_ model: Homography) -> Bool {
        let (w, h) = (Double(frame.width), Double(frame.height))
        return [SIMD2(w / 2, h / 2), SIMD2(0, 0), SIMD2(w, 0), SIMD2(0, h), SIMD2(w, h)].allSatisfy { point in
            let local = model.localScaleAndRotation(at: point)
            return (1 / maximumScale...maximumScale).contains(local.scale) && abs(local.rotation) * 180 / .pi <= maximumRotation
        }
    }
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

// MARK: - Sub-pixel refinement

/// Each inlier refined to sub-pixel precision; inliers whose patch cannot pin an offset (an
/// edge: the aperture problem) or whose refinement wanders off are dropped.
private func refinedMatches(_ inliers: [CornerMatch], source: Plane, reference: Plane) -> [PointMatch] {
    var refined = [PointMatch?](repeating: nil, count: inliers.count)
    source.pixels.withUnsafeBufferPointer { sourcePixels in
        reference.pixels.withUnsafeBufferPointer { referencePixels in
            refined.withUnsafeMutableBufferPointer { refined in
                let refined = UncheckedSendable(refined)
                parallelChunks(inliers.count) { range in
                    var tracker = PatchTracker(source: sourcePixels, reference: referencePixels, size: source.size)
                    for index in range {
                        let match = inliers[index]
                        guard let offset = tracker.refine(match) else { continue }
                        let point = SIMD2(Double(match.source.x) + 0.5, Double(match.source.y) + 0.5)
                        refined.value[index] = PointMatch(source: point, target: point + SIMD2<Double>(offset))
                    }
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
