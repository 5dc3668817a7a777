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
    /// Nil when corner matches decided. When they were too few and the model was fitted to the
    /// images directly (`DirectAligner`), the correlation of T's detail with `I_src`'s through
    /// it, which decided; `matches` and `inliers` then describe the corner attempt.
    public var detailCorrelation: Double? = nil

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

    public func align(source: Plane, reference: Plane) -> CoarseAlignment { align(source: source, reading: reference) }

    /// The same with T as decoded, in 8 bits.
    public func align(source: Plane, reference: BytePlane) -> CoarseAlignment { align(source: source, reading: reference) }

    func align<S: ReadablePlane, P: ReadablePlane>(source: S, reading reference: P) -> CoarseAlignment {
        precondition(source.size == reference.size, "source \(source.size) and reference \(reference.size) differ in size")
        let working = workingSize(for: source.size)
        return align(full: source.size, levels: (workingLevel(source, size: working), workingLevel(reference, size: working)))
    }

    /// From the two planes at the working size.
    private func align(full: Size, levels: (source: Plane, reference: Plane)) -> CoarseAlignment {
        let (sourceLevel, referenceLevel) = levels
        let working = sourceLevel.size
        /// The verdict on corners matched with the reference turned back by `degrees`, and the
        /// refined matches it explains (working pixels).
        func attempt(
            turnedBy degrees: Double, sourceCorners: NormalisedPatches, threshold: Float
        ) -> (verdict: CoarseAlignment, inliers: [PointMatch]) {
            // The reference level turned back by `degrees` about its centre: point z of the
            // turned level is point turn(z) of the reference level.
            let centre = SIMD2(Double(working.width), Double(working.height)) / 2
            let turn = Homography.similarity(scale: 1, rotation: degrees * .pi / 180, translation: .zero, about: centre)
            let turned = degrees == 0 ? referenceLevel : warp(referenceLevel, by: turn, to: working, interpolation: .bilinear)
            let matches = mutualMatches(
                sourceCorners, describedCorners(turned, threshold: threshold), reach: searchReach(workingWidth: working.width))
            let fit = RobustFit(matches: matches, frame: working, maximumScale: maximumScale, maximumRotation: maximumRotation).run()
            let refined = refinedMatches(fit.inliers, source: sourceLevel, reference: turned).map {
                PointMatch(source: $0.source, target: turn.apply($0.target))
            }
            return (summary(refined, model: fit.model, matches: matches.count, working: working, full: full), refined)
        }
        // A scene of low contrast (dusk, fog, a plain wall) has too few corners above the
        // brightness step to leave enough inliers: the step is lowered only then, since on a
        // busy scene the fainter corners add chance matches and lower the inliers' share.
        let sourceCorners = describedCorners(sourceLevel, threshold: cornerThreshold)
        var (upright, uprightInliers) = attempt(turnedBy: 0, sourceCorners: sourceCorners, threshold: cornerThreshold)
        if upright.inliers < minimumInliers {
            let fainter = cornerThreshold * CoarseTuning.fainterCornerStep
            (upright, uprightInliers) = attempt(turnedBy: 0, sourceCorners: describedCorners(sourceLevel, threshold: fainter), threshold: fainter)
        }
        // A wider allowance than upright patches match is searched in steps, each covering the
        // turns upright matching would around it, the most inliers winning; only when upright
        // matching fails.
        let reach = CoarseTuning.uprightTurn, step = CoarseTuning.turnStep
        let turns = maximumRotation <= reach ? [] : stride(from: step, to: maximumRotation + reach, by: step).flatMap { [$0, -$0] }
        guard !upright.isReliable else { return upright }
        if let turned = turns.map({ attempt(turnedBy: $0, sourceCorners: sourceCorners, threshold: cornerThreshold).verdict })
            .filter(\.isReliable).max(by: { $0.inliers < $1.inliers })
        {
            return turned
        }
        return directAlignment(sourceLevel, referenceLevel, corners: upright, cornerInliers: uprightInliers, full: full)
    }

    /// The model fitted to the working levels themselves, where corner matching fell short; the
    /// corners' verdict stands, with the direct fit's added, when that cannot be trusted either.
    /// The corners the upright attempt did match, too few to trust alone, settle which of two
    /// positions that correlate nearly as well is the true one (`DirectAligner`).
    private func directAlignment(
        _ source: Plane, _ reference: Plane, corners: CoarseAlignment, cornerInliers: [PointMatch], full: Size
    ) -> CoarseAlignment {
        let aligner = DirectAligner(
            reachFraction: maximumOffsetFraction + maximumWarpFraction, maximumScale: maximumScale,
            maximumRotation: min(maximumRotation, CoarseTuning.uprightTurn))
        let fit = aligner.align(source: source, reference: reference, cornerInliers: cornerInliers)
        guard fit.problem == nil else {
            var failed = corners
            failed.problem = [corners.problem, fit.problem.map { "direct fit: \($0)" }].compactMap { $0 }.joined(separator: "; ")
            return failed
        }
        let transform = fit.transform.scaled(
            x: Double(full.width) / Double(source.width), y: Double(full.height) / Double(source.height))
        let centre = SIMD2(Double(full.width), Double(full.height)) / 2
        let local = transform.localScaleAndRotation(at: centre)
        return CoarseAlignment(
            transform: transform, similarity: transform, model: .similarity, translation: transform.apply(centre) - centre,
            scale: local.scale, rotation: local.rotation * 180 / .pi, matches: corners.matches, inliers: corners.inliers,
            inlierShare: corners.inlierShare, spread: .infinity, problem: nil, detailCorrelation: fit.correlation)
    }

    private func workingSize(for size: Size) -> Size {
        guard size.width > workingWidth else { return size }
        return Size(
            width: workingWidth,
            height: max(1, Int((Double(size.height * workingWidth) / Double(size.width)).rounded())))
    }

    /// The plane at the working size, smoothed so that noise neither fires the corner test nor
    /// jitters the patches. Smoothing is symmetric, so it moves nothing.
    private func workingLevel<P: ReadablePlane>(_ plane: P, size: Size) -> Plane {
        let resized = size == plane.size ? plane.floats : resample(plane, from: plane.size.bounds, to: size)
        return gaussianBlur(resized, sigma: CoarseTuning.smoothingSigma)
    }

    private func describedCorners(_ level: Plane, threshold: Float) -> NormalisedPatches {
        // The margin keeps each patch and its gradients inside the plane.
        let detector = FASTCornerDetector(
            threshold: threshold, cellsAcross: CoarseTuning.cellsAcross,
            cornersPerCell: CoarseTuning.cornersPerCell, margin: MatchPatch.radius + 1)
        return NormalisedPatches(around: detector.corners(in: level), in: level)
    }

    /// How far apart, in x and in y, two corners may be to match, in working pixels. Corner
    /// positions jitter by a pixel or two, so a displacement at the limit needs the slack.
    private func searchReach(workingWidth: Int) -> Int {
        Int(((maximumOffsetFraction + maximumWarpFraction) * Double(workingWidth)).rounded(.up) + Double(CoarseTuning.inlierTolerance))
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
enum CoarseTuning {
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
    /// Upright patches match T turned by up to this many degrees (a rig's allowance)…
    static let uprightTurn = 15.0
    /// …so a wider one (two views of a scene taken by hand) is searched with the reference turned
    /// back in steps of this many.
    static let turnStep = 20.0
    /// Upright matching with too few inliers is tried again with the corner step times this. On
    /// the training captures of both simulators (168), skipped captures fell from 12 to 7 (the
    /// rest nearly featureless: a motion-blurred road, a smooth dusk lake); a quarter as well
    /// skipped the same 7.
    static let fainterCornerStep: Float = 0.5
    /// Lucas–Kanade stops after this many steps, or once a step is shorter than `convergedStep`.
    static let maximumIterations = 10
    static let convergedStep: Float = 0.005
}

/// The square patches that corners are compared and tracked by.
enum MatchPatch {
    /// 17 × 17 working pixels: distinctive, yet small enough that parallax is constant across one.
    static let radius = 8
    static let side = 2 * radius + 1
    static let area = side * side
    /// Floats per stored patch: the area padded with zeros to whole SIMD vectors.
    static let stride = (area + 7) / 8 * 8
}

/// A point of the source and where it lies in the reference, in continuous working coordinates.
struct PointMatch {
    var source: SIMD2<Double>
    var target: SIMD2<Double>
}

/// The bounding box of some points.
struct Extent {
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
