import Foundation

/// Step 3 where corners cannot decide: a scene with too few distinct corners (smooth cups, a
/// dusk lake, storm clouds) or with most of them on movers and occluders. The similarity is
/// found from the images themselves, every pixel voting: the translation by an exhaustive
/// search on a small level, then turn, scale and translation by Gauss–Newton, coarse to fine.
/// Both work on band-passed luma (blind to exposure, vignetting and most noise), with T's gain
/// a free parameter and large residuals (occluders, movers) weighed down.
///
/// The fit is trusted only when every pixel's vote agrees on one answer: T's detail then
/// correlates well with `I_src`'s over most of the frame, the detail runs in more than one
/// direction (along a horizon or a shore any shift correlates as well), the best translation
/// lies inside the search rather than on its edge, and no other translation correlates nearly
/// as well (a facade one window off), unless the corner inliers, too few to decide alone, agree
/// with the best: a position one period off explains none of them. An unrelated frame
/// correlates with nothing.
struct DirectAligner {
    /// The translation searched, in x and in y, as a fraction of the width.
    var reachFraction: Double
    var maximumScale: Double
    var maximumRotation: Double

    /// Source grid → reference grid on `source`'s grid, with the evidence and the verdict;
    /// `cornerInliers`: the corner attempt's refined inliers on the same grid, too few to trust
    /// alone, which may settle an ambiguous search.
    func align(source: Plane, reference: Plane, cornerInliers: [PointMatch] = []) -> DirectFit {
        let sources = pyramid(source), references = pyramid(reference)
        let coarsest = sources.count - 1
        let search = TranslationSearch(sources[coarsest], references[coarsest], reach: reach(across: sources[coarsest].size))
        var model = SimilarityParameters(translation: search.best)
        for level in stride(from: coarsest, through: 0, by: -1) {
            if level < coarsest { model = model.carried(from: sources[level + 1].size, to: sources[level].size) }
            model = refined(model, source: sources[level], reference: references[level])
        }
        let finest = sources[0].size
        let agreement = model.agreement(sources[0], references[0])
        let transform = model.homography(on: finest).scaled(
            x: Double(source.width) / Double(finest.width), y: Double(source.height) / Double(finest.height))
        let local = transform.localScaleAndRotation(at: SIMD2(Double(source.width), Double(source.height)) / 2)
        let beyondReach = max(abs(model.translation.x), abs(model.translation.y)) > Double(reach(across: finest)) + 1
        // A rival that close leaves the fit ambiguous unless the corners settle it.
        let ambiguous =
            search.rival > DirectTuning.maximumRivalShare * search.correlation
            && !corroborates(cornerInliers, transform, search, scale: Double(source.width) / Double(sources[coarsest].width))
        let problem = verdict(
            search, agreement, beyondReach: beyondReach, ambiguous: ambiguous, scale: local.scale, degrees: local.rotation * 180 / .pi)
        return DirectFit(transform: transform, correlation: agreement.correlation, problem: problem)
    }

    /// The first reason not to trust the fit, in the order an operator would look for it.
    private func verdict(
        _ search: TranslationSearch, _ agreement: Agreement, beyondReach: Bool, ambiguous: Bool, scale: Double, degrees: Double
    )
        -> String?
    {
        if !(agreement.overlap >= DirectTuning.minimumOverlap) {
            return String(format: "T covers %.0f %% of I_src through it, below %.0f %%", agreement.overlap * 100, DirectTuning.minimumOverlap * 100)
        }
        if !(agreement.correlation >= DirectTuning.minimumCorrelation) {
            return String(
                format: "T's detail correlates %.2f with I_src's at best, below %.2f", agreement.correlation, DirectTuning.minimumCorrelation)
        }
        if !(agreement.isotropy >= DirectTuning.minimumIsotropy) {
            return String(
                format: "the detail runs nearly all one way (isotropy %.2f, below %.2f): a shift along it is not measured",
                agreement.isotropy, DirectTuning.minimumIsotropy)
        }
        if search.bestOnEdge || beyondReach { return "the best position lies at or past the edge of the search" }
        if ambiguous {
            return String(
                format: "a second position correlates %.2f against the best's %.2f: ambiguous (repeated texture, or edges all one way)", search.rival,
                search.correlation)
        }
        if !(1 / maximumScale...maximumScale).contains(scale) || abs(degrees) > maximumRotation {
            return String(format: "T is scaled by %.3f and turned by %.1f°, beyond a rig's", scale, degrees)
        }
        return nil
    }

    /// Whether enough of the corner inliers, and nearly all of them, lie where `transform` puts
    /// their source points: within twice a corner match's tolerance (two estimates, each within
    /// it of the truth) and closer to the fit than to the rival, whose position is `scale` times
    /// the search's (its level's pixels). The corners, each distinctive by the ratio test, then
    /// side with the fit, not with a position one period off.
    private func corroborates(_ inliers: [PointMatch], _ transform: Homography, _ search: TranslationSearch, scale: Double) -> Bool {
        guard let rival = search.rivalAt else { return false }
        let tolerance = min(2 * Double(CoarseTuning.inlierTolerance), distance(rival, search.best) * scale / 2)
        let agreeing = inliers.filter { distance(transform.apply($0.source), $0.target) < tolerance }
        return agreeing.count >= DirectTuning.corroboratingInliers
            && Double(agreeing.count) >= DirectTuning.corroboratingShare * Double(inliers.count)
    }

    /// The translation searched on a level of this size, in its pixels, in x and in y.
    private func reach(across size: Size) -> Int { max(1, Int((reachFraction * Double(size.width)).rounded(.up))) }

    /// Band-passed levels, finest first: the finest no wider than `DirectTuning.finestWidth`, the
    /// coarsest no wider than `DirectTuning.coarsestWidth`.
    private func pyramid(_ plane: Plane) -> [Plane] {
        var level = plane
        while level.width > DirectTuning.finestWidth { level = halved(level) }
        var levels = [level]
        while level.width > DirectTuning.coarsestWidth && level.height > 1 {
            level = halved(level)
            levels.append(level)
        }
        return levels.map { fineBand($0, sigma: DirectTuning.bandSigma) }
    }

    private func halved(_ plane: Plane) -> Plane {
        resample(plane, from: plane.size.bounds, to: Size(width: max(1, plane.width / 2), height: max(1, plane.height / 2)))
    }

    /// The model improved by robust Gauss–Newton steps on one level until a step moves no point
    /// of the frame by more than `DirectTuning.convergedStep` pixels.
    private func refined(_ start: SimilarityParameters, source: Plane, reference: Plane) -> SimilarityParameters {
        var model = start, residualScale = Double.infinity
        let gradients = Gradients(reference)
        for _ in 0..<DirectTuning.maximumIterations {
            let equations = model.normalEquations(source: source, reference: reference, gradients: gradients, residualScale: residualScale)
            guard equations.count > 0, let step = equations.solution() else { break }
            residualScale = max(2 * equations.absoluteResidualSum / Double(equations.count), DirectTuning.smallestResidualScale)
            model.apply(step)
            if step.largestMove(across: source.size) < DirectTuning.convergedStep { break }
        }
        return model
    }
}

/// A direct fit and whether it can be trusted.
struct DirectFit {
    /// Working-grid source → reference.
    var transform: Homography
    /// Normalised cross-correlation of the band-passed planes through the fit, on the finest level.
    var correlation: Double
    var problem: String?
}

/// The fixed choices of the direct fit.
enum DirectTuning {
    static let finestWidth = 512
    static let coarsestWidth = 128
    /// Detail finer than this Gaussian (level pixels) is what is matched.
    static let bandSigma = 3.0
    static let maximumIterations = 12
    static let convergedStep = 0.02
    /// The Cauchy weights' scale never falls below this (a perfect fit would make it 0).
    static let smallestResidualScale = 1e-6
    /// The share of `I_src` that must land inside T through the fit for its correlation to mean anything.
    static let minimumOverlap = 0.5
    /// Trusted from this correlation of the band-passed planes through the fit… On 88 training
    /// captures of both simulators (`hzsr simulate --split train`, seeds 4001 and 5001 on), every
    /// true pair correlated 0.53 or more (0.53–0.67 with near objects and defocus) and every W
    /// with another capture's T (88 pairs) 0.08 or less.
    static let minimumCorrelation = 0.3
    /// …when the weaker direction of the detail's structure tensor holds this share of the
    /// stronger's (on the same 88 captures true pairs went down to 0.022, a dusk lake's shore
    /// with faint texture above it, fitted right; a lone straight edge holds next to nothing)…
    static let minimumIsotropy = 0.01
    /// …and the best other local maximum of the translation search stays below this share of
    /// the best: a period off. True pairs reached 0.95 on a bridge's cables, where corners decide;
    /// the three that fell to this fit, 0.06–0.29.
    static let maximumRivalShare = 0.9
    /// A rival that close is no ambiguity when this many corner inliers, and this share of them,
    /// agree with the fit. W with another capture's T (208 pairs of the training and evaluation
    /// sets) left at most 4 corner inliers, none of them agreeing; the facade and the dusk lake
    /// that this settles, 7–10, all agreeing.
    static let corroboratingInliers = 6
    static let corroboratingShare = 0.8
}

/// Every whole-pixel translation within `reach`, scored by the normalised cross-correlation of
/// source pixel x with reference pixel x + shift over their overlap; the best, whether it lies
/// on the window's edge (a ridge still rising: edges all one way, or T beyond reach), and the
/// best other local maximum not next to it.
private struct TranslationSearch {
    let best: SIMD2<Double>
    let correlation: Double
    let rival: Double
    /// Where the rival lies, as the best does (nil when there is none).
    let rivalAt: SIMD2<Double>?
    let bestOnEdge: Bool

    init(_ source: Plane, _ reference: Plane, reach: Int) {
        let side = 2 * reach + 1
        var grid = [Double](repeating: -1, count: side * side)
        grid.withUnsafeMutableBufferPointer { output in
            let output = UncheckedSendable(output)
            parallelChunks(side) { rows in
                for row in rows {
                    for column in 0..<side {
                        output.value[row * side + column] = shiftedCorrelation(source, reference, dx: column - reach, dy: row - reach)
                    }
                }
            }
        }
        let scores = grid
        let top = scores.indices.max { scores[$0] < scores[$1] }!
        let (topX, topY) = (top % side, top / side)
        func isLocalMaximum(_ index: Int) -> Bool {
            let (x, y) = (index % side, index / side)
            for ny in max(0, y - 1)...min(side - 1, y + 1) {
                for nx in max(0, x - 1)...min(side - 1, x + 1) where scores[ny * side + nx] > scores[index] { return false }
            }
            return true
        }
        let others = scores.indices.filter { max(abs($0 % side - topX), abs($0 / side - topY)) > 1 && isLocalMaximum($0) }
        best = SIMD2(Double(topX - reach), Double(topY - reach))
        correlation = scores[top]
        let strongest = others.max { scores[$0] < scores[$1] }
        rival = strongest.map { scores[$0] } ?? -1
        rivalAt = strongest.map { SIMD2(Double($0 % side - reach), Double($0 / side - reach)) }
        bestOnEdge = topX == 0 || topY == 0 || topX == side - 1 || topY == side - 1
    }
}

/// Normalised cross-correlation of `source` with `reference` moved by whole pixels: source pixel x
/// against reference pixel x + (dx, dy), over their overlap; −1 where they overlap in less than
/// half of the source's rows or columns.
private func shiftedCorrelation(_ source: Plane, _ reference: Plane, dx: Int, dy: Int) -> Double {
    let (left, right) = (max(0, -dx), min(source.width, reference.width - dx))
    let (top, bottom) = (max(0, -dy), min(source.height, reference.height - dy))
    guard 2 * (right - left) >= source.width, 2 * (bottom - top) >= source.height, left < right, top < bottom else { return -1 }
    var sums = CorrelationSums()
    for y in top..<bottom {
        for x in left..<right { sums.add(Double(source[x, y]), Double(reference[x + dx, y + dy])) }
    }
    return sums.correlation
}

/// How well the band-passed planes agree through a model: their correlation over the overlap,
/// the overlap's share of the source, and how evenly the source's detail runs in all directions
/// there (the smaller eigenvalue of its gradients' structure tensor over the larger).
private struct Agreement {
    var correlation: Double
    var overlap: Double
    var isotropy: Double
}

/// x ↦ c + (1 + a)(x − c) + b·(x − c)⊥ + t about the level's centre c, with T's gain g on the
/// band-passed source: R(W(x)) ≈ g·S(x).
private struct SimilarityParameters {
    var a = 0.0, b = 0.0
    var translation: SIMD2<Double>
    var gain = 1.0

    /// The same model on a level of another size (the next finer one).
    func carried(from size: Size, to finer: Size) -> SimilarityParameters {
        let factor = SIMD2(Double(finer.width) / Double(size.width), Double(finer.height) / Double(size.height))
        return SimilarityParameters(a: a, b: b, translation: translation * factor, gain: gain)
    }

    mutating func apply(_ step: SimilarityStep) {
        a += step.a
        b += step.b
        translation += step.translation
        gain += step.gain
    }

    /// The frame's centre in pixel index coordinates (pixel centres at integers), the point the
    /// model turns and scales about: the continuous centre (w/2, h/2) of `Homography`'s grid.
    static func centre(of size: Size) -> SIMD2<Double> {
        SIMD2(Double(size.width), Double(size.height)) / 2 - 0.5
    }

    func homography(on size: Size) -> Homography {
        let centre = SIMD2(Double(size.width), Double(size.height)) / 2
        return Homography.similarity(
            scale: ((1 + a) * (1 + a) + b * b).squareRoot(), rotation: atan2(b, 1 + a), translation: translation, about: centre)
    }

    /// Where source pixel (x, y) lies in the reference, in pixel index coordinates.
    @inline(__always)
    func map(_ x: Double, _ y: Double, centre: SIMD2<Double>) -> SIMD2<Double> {
        let d = SIMD2(x, y) - centre
        return centre + SIMD2((1 + a) * d.x - b * d.y, b * d.x + (1 + a) * d.y) + translation
    }

    /// The normal equations of one Gauss–Newton step in (a, b, t, g), each residual weighted by
    /// Cauchy's 1 / (1 + (r / s)²) with s = `residualScale` (all alike when it is infinite).
    func normalEquations(source: Plane, reference: Plane, gradients: Gradients, residualScale: Double) -> NormalEquations {
        let centre = Self.centre(of: source.size)
        var rows = [NormalEquations](repeating: NormalEquations(), count: source.height)
        withReaders(reference, gradients) { value, slopeX, slopeY in
            rows.withUnsafeMutableBufferPointer { rows in
                let rows = UncheckedSendable(rows)
                parallelChunks(source.height, itemCost: source.width) { band in
                    for y in band { rows.value[y] = rowEquations(y, source, value, slopeX, slopeY, centre: centre, residualScale: residualScale) }
                }
            }
        }
        return rows.reduce(NormalEquations(), +)
    }

    private func rowEquations(
        _ y: Int, _ source: Plane, _ value: PlaneReader, _ slopeX: PlaneReader, _ slopeY: PlaneReader, centre: SIMD2<Double>,
        residualScale: Double
    ) -> NormalEquations {
        var sums = NormalEquations()
        for x in 0..<source.width {
            let at = map(Double(x), Double(y), centre: centre)
            guard at.x >= 1, at.y >= 1, at.x <= Double(value.width - 2), at.y <= Double(value.height - 2) else { continue }
            let (px, py) = (Float(at.x), Float(at.y))
            let s = Double(source[x, y])
            let residual = Double(value.bilinear(px, py)) - gain * s
            let (ix, iy) = (Double(slopeX.bilinear(px, py)), Double(slopeY.bilinear(px, py)))
            let (dx, dy) = (Double(x) - centre.x, Double(y) - centre.y)
            let jacobian = SIMD8(ix * dx + iy * dy, iy * dx - ix * dy, ix, iy, -s, 0, 0, 0)
            let relative = residual / residualScale
            sums.add(jacobian, residual: residual, weight: 1 / (1 + relative * relative))
        }
        return sums
    }

    /// The band-passed planes' agreement through the model.
    func agreement(_ source: Plane, _ reference: Plane) -> Agreement {
        let centre = Self.centre(of: source.size), slopes = Gradients(source)
        var sums = CorrelationSums(), (xx, xy, yy) = (0.0, 0.0, 0.0)
        reference.pixels.withUnsafeBufferPointer { pixels in
            let reader = PlaneReader(pixels: pixels, width: reference.width, height: reference.height)
            for y in 0..<source.height {
                for x in 0..<source.width {
                    let at = map(Double(x), Double(y), centre: centre)
                    guard at.x >= 0, at.y >= 0, at.x <= Double(reference.width - 1), at.y <= Double(reference.height - 1) else { continue }
                    sums.add(Double(source[x, y]), Double(reader.bilinear(Float(at.x), Float(at.y))))
                    let (gx, gy) = (Double(slopes.x[y * source.width + x]), Double(slopes.y[y * source.width + x]))
                    (xx, xy, yy) = (xx + gx * gx, xy + gx * gy, yy + gy * gy)
                }
            }
        }
        // The eigenvalues of [[xx, xy], [xy, yy]].
        let mean = (xx + yy) / 2, spread = (((xx - yy) / 2) * ((xx - yy) / 2) + xy * xy).squareRoot()
        return Agreement(
            correlation: sums.correlation, overlap: sums.n / Double(max(source.size.pixelCount, 1)),
            isotropy: mean + spread > 0 ? (mean - spread) / (mean + spread) : 0)
    }
}

/// One Gauss–Newton step of `SimilarityParameters`.
private struct SimilarityStep {
    var a: Double, b: Double
    var translation: SIMD2<Double>
    var gain: Double

    /// How far the step moves a point of a frame of this size at most (roughly): the turn and
    /// scale at the frame's edge plus the translation.
    func largestMove(across size: Size) -> Double {
        (abs(a) + abs(b)) * Double(max(size.width, size.height)) + abs(translation.x) + abs(translation.y)
    }
}

extension NormalEquations {
    /// The step that solves them; nil when they are singular or the step is not finite.
    fileprivate func solution() -> SimilarityStep? {
        guard let x = solved() else { return nil }
        return SimilarityStep(a: x[0], b: x[1], translation: SIMD2(x[2], x[3]), gain: x[4])
    }
}

private struct CorrelationSums {
    var n = 0.0, a = 0.0, b = 0.0, aa = 0.0, bb = 0.0, ab = 0.0

    @inline(__always)
    mutating func add(_ x: Double, _ y: Double) {
        n += 1
        a += x
        b += y
        aa += x * x
        bb += y * y
        ab += x * y
    }

    var correlation: Double {
        guard n > 1 else { return -1 }
        let covariance = ab - a * b / n, varianceA = aa - a * a / n, varianceB = bb - b * b / n
        guard varianceA > 0, varianceB > 0 else { return -1 }
        return covariance / (varianceA * varianceB).squareRoot()
    }
}

/// Bilinear readers of a plane and of its gradients in x and y.
private func withReaders(_ plane: Plane, _ gradients: Gradients, _ body: (PlaneReader, PlaneReader, PlaneReader) -> Void) {
    let (w, h) = (plane.width, plane.height)
    plane.pixels.withUnsafeBufferPointer { values in
        gradients.x.withUnsafeBufferPointer { slopeX in
            gradients.y.withUnsafeBufferPointer { slopeY in
                body(
                    PlaneReader(pixels: values, width: w, height: h), PlaneReader(pixels: slopeX, width: w, height: h),
                    PlaneReader(pixels: slopeY, width: w, height: h))
            }
        }
    }
}
