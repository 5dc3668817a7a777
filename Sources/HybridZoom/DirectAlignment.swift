import Foundation

/// Step 3 where corners cannot decide: a scene with too few distinct corners (smooth cups, a
/// dusk lake, storm clouds) or with most of them on movers and occluders. The similarity is
/// found from the images themselves, every pixel voting: the translation by an exhaustive
/// search on a small level, then turn, scale and translation by Gauss–Newton, coarse to fine.
/// Both work on band-passed luma (blind to exposure, vignetting and most noise), with T's gain
/// a free parameter and large residuals (occluders, movers) weighed down.
///
/// The fit is trusted when T's detail then correlates well with `I_src`'s and no other
/// translation correlates nearly as well: an unrelated frame correlates with nothing, and a
/// facade's period correlates one period off as well as at the truth, so both are refused.
struct DirectAligner {
    /// The translation searched, in x and in y, as a fraction of the width.
    var reachFraction: Double
    var maximumScale: Double
    var maximumRotation: Double

    /// Source grid → reference grid on `source`'s grid, with the evidence and the verdict.
    func align(source: Plane, reference: Plane) -> DirectFit {
        let sources = pyramid(source), references = pyramid(reference)
        let search = translationSearch(sources.last!, references.last!)
        var model = SimilarityParameters(translation: search.best)
        var level = sources.count - 1
        while true {
            model = refined(model, source: sources[level], reference: references[level])
            guard level > 0 else { break }
            model = model.scaled(by: Double(sources[level - 1].width) / Double(sources[level].width))
            level -= 1
        }
        let correlation = model.correlation(sources[0], references[0])
        let finest = sources[0].width, working = source.width
        let transform = model.homography(on: sources[0].size).scaled(
            x: Double(working) / Double(finest), y: Double(source.height) / Double(sources[0].height))
        let local = transform.localScaleAndRotation(at: SIMD2(Double(source.width), Double(source.height)) / 2)
        let degrees = local.rotation * 180 / .pi
        let problem: String? =
            if !(correlation >= DirectTuning.minimumCorrelation) {
                String(format: "T's detail correlates %.2f with I_src's at best, below %.2f", correlation, DirectTuning.minimumCorrelation)
            } else if search.rival > DirectTuning.maximumRivalShare * search.correlation {
                String(
                    format: "a second position correlates %.2f against the best's %.2f: ambiguous (repeated texture, or edges all one way)",
                    search.rival,
                    search.correlation)
            } else if !(1 / maximumScale...maximumScale).contains(local.scale) || abs(degrees) > maximumRotation {
                String(format: "T is scaled by %.3f and turned by %.1f°, beyond a rig's", local.scale, degrees)
            } else {
                nil
            }
        return DirectFit(transform: transform, correlation: correlation, problem: problem)
    }

    /// Band-passed levels, finest first: the finest no wider than `DirectTuning.finestWidth`, the
    /// coarsest no wider than `DirectTuning.coarsestWidth`.
    private func pyramid(_ plane: Plane) -> [Plane] {
        var level = plane
        while level.width > DirectTuning.finestWidth { level = halved(level) }
        var levels = [level]
        while level.width > DirectTuning.coarsestWidth {
            level = halved(level)
            levels.append(level)
        }
        return levels.map { fineBand($0, sigma: DirectTuning.bandSigma) }
    }

    private func halved(_ plane: Plane) -> Plane {
        resample(plane, from: plane.size.bounds, to: Size(width: max(1, plane.width / 2), height: max(1, plane.height / 2)))
    }

    /// Every whole-pixel translation within the reach, scored by normalised cross-correlation
    /// over the overlap; the best, and the best other local maximum.
    private func translationSearch(_ source: Plane, _ reference: Plane) -> (best: SIMD2<Double>, correlation: Double, rival: Double) {
        let reach = max(1, Int((reachFraction * Double(source.width)).rounded(.up)))
        let side = 2 * reach + 1
        var scores = [Double](repeating: -1, count: side * side)
        scores.withUnsafeMutableBufferPointer { scores in
            let scores = UncheckedSendable(scores)
            parallelChunks(side) { rows in
                for row in rows {
                    for column in 0..<side {
                        scores.value[row * side + column] = shiftedCorrelation(source, reference, dx: column - reach, dy: row - reach)
                    }
                }
            }
        }
        let best = scores.indices.max { scores[$0] < scores[$1] }!
        func isLocalMaximum(_ index: Int) -> Bool {
            let (x, y) = (index % side, index / side)
            for ny in max(0, y - 1)...min(side - 1, y + 1) {
                for nx in max(0, x - 1)...min(side - 1, x + 1) where scores[ny * side + nx] > scores[index] { return false }
            }
            return true
        }
        func isBesideBest(_ index: Int) -> Bool {
            max(abs(index % side - best % side), abs(index / side - best / side)) <= 1
        }
        let rival = scores.indices.filter { !isBesideBest($0) && isLocalMaximum($0) }.map { scores[$0] }.max() ?? -1
        return (SIMD2(Double(best % side - reach), Double(best / side - reach)), scores[best], rival)
    }

    /// The model improved by robust Gauss–Newton steps on one level until a step moves no point
    /// of the frame by more than `DirectTuning.convergedStep` pixels.
    private func refined(_ start: SimilarityParameters, source: Plane, reference: Plane) -> SimilarityParameters {
        var model = start, scale = Double.infinity
        let gradients = Gradients(reference)
        for _ in 0..<DirectTuning.maximumIterations {
            guard let step = model.gaussNewtonStep(source: source, reference: reference, gradients: gradients, residualScale: &scale) else {
                break
            }
            model.apply(step)
            let reachOfStep = abs(step[0]) * Double(source.width) + abs(step[1]) * Double(source.width) + abs(step[2]) + abs(step[3])
            if reachOfStep < DirectTuning.convergedStep { break }
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
    /// Trusted from this correlation of the band-passed planes through the fit… On 88 training
    /// captures of both simulators (`hzsr simulate --split train`, seeds 4001 and 5001 on), every
    /// true pair correlated 0.53 or more (0.53–0.67 with near objects and defocus) and every W
    /// with another capture's T (88 pairs) 0.08 or less.
    static let minimumCorrelation = 0.3
    /// …when the best other local maximum of the translation search stays below this share of
    /// the best: a period off. True pairs reached 0.95 on a bridge's cables, where corners decide;
    /// the three that fell to this fit, 0.06–0.29.
    static let maximumRivalShare = 0.9
}

/// x ↦ c + (1 + a)(x − c) + b·(x − c)⊥ + t about the level's centre c, with T's gain g on the
/// band-passed source: R(W(x)) ≈ g·S(x).
private struct SimilarityParameters {
    var a = 0.0, b = 0.0
    var translation: SIMD2<Double>
    var gain = 1.0

    func scaled(by factor: Double) -> SimilarityParameters {
        SimilarityParameters(a: a, b: b, translation: translation * factor, gain: gain)
    }

    mutating func apply(_ step: [Double]) {
        a += step[0]
        b += step[1]
        translation += SIMD2(step[2], step[3])
        gain += step[4]
    }

    /// The frame's centre in pixel index coordinates (pixel centres at integers), the point the
    /// model turns and scales about: the continuous centre (w/2, h/2) of `Homography`'s grid.
    func levelCentre(_ size: Size) -> SIMD2<Double> {
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

    /// One step (Δa, Δb, Δtx, Δty, Δg) of Gauss–Newton on Cauchy-weighted residuals; the weights'
    /// scale follows the mean absolute residual of the step before. Nil when the overlap is empty
    /// or the system singular.
    func gaussNewtonStep(source: Plane, reference: Plane, gradients: Gradients, residualScale: inout Double) -> [Double]? {
        let centre = levelCentre(source.size), scale = residualScale
        var rows = [NormalEquations](repeating: NormalEquations(), count: source.height)
        withReaders(reference, gradients) { value, slopeX, slopeY in
            rows.withUnsafeMutableBufferPointer { rows in
                let rows = UncheckedSendable(rows)
                parallelChunks(source.height, itemCost: source.width) { band in
                    for y in band {
                        var sums = NormalEquations()
                        for x in 0..<source.width {
                            let at = map(Double(x), Double(y), centre: centre)
                            guard at.x >= 1, at.y >= 1, at.x <= Double(reference.width - 2), at.y <= Double(reference.height - 2) else { continue }
                            let (px, py) = (Float(at.x), Float(at.y))
                            let s = Double(source[x, y])
                            let residual = Double(value.bilinear(px, py)) - gain * s
                            let (ix, iy) = (Double(slopeX.bilinear(px, py)), Double(slopeY.bilinear(px, py)))
                            let (dx, dy) = (Double(x) - centre.x, Double(y) - centre.y)
                            let jacobian = SIMD8(ix * dx + iy * dy, iy * dx - ix * dy, ix, iy, -s, 0, 0, 0)
                            let weight = scale.isFinite ? 1 / (1 + (residual / scale) * (residual / scale)) : 1
                            sums.add(jacobian, residual: residual, weight: weight)
                        }
                        rows.value[y] = sums
                    }
                }
            }
        }
        let total = rows.reduce(NormalEquations(), +)
        guard total.count > 0 else { return nil }
        residualScale = 2 * total.absoluteResidualSum / Double(total.count)
        return total.solution()
    }

    /// Normalised cross-correlation of the source with the reference read through the model,
    /// over the overlap.
    func correlation(_ source: Plane, _ reference: Plane) -> Double {
        let centre = levelCentre(source.size)
        var sums = CorrelationSums()
        reference.pixels.withUnsafeBufferPointer { pixels in
            let reader = PlaneReader(pixels: pixels, width: reference.width, height: reference.height)
            for y in 0..<source.height {
                for x in 0..<source.width {
                    let at = map(Double(x), Double(y), centre: centre)
                    guard at.x >= 0, at.y >= 0, at.x <= Double(reference.width - 1), at.y <= Double(reference.height - 1) else { continue }
                    sums.add(Double(source[x, y]), Double(reader.bilinear(Float(at.x), Float(at.y))))
                }
            }
        }
        return sums.correlation
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

/// Σ w·JᵀJ and −Σ w·Jᵀr of weighted least squares in five unknowns (lanes 5–7 stay zero), with
/// the residuals' absolute sum and count.
private struct NormalEquations {
    // The rows of the symmetric matrix.
    var m0 = SIMD8<Double>.zero, m1 = SIMD8<Double>.zero, m2 = SIMD8<Double>.zero, m3 = SIMD8<Double>.zero, m4 = SIMD8<Double>.zero
    var right = SIMD8<Double>.zero
    var absoluteResidualSum = 0.0
    var count = 0

    @inline(__always)
    mutating func add(_ jacobian: SIMD8<Double>, residual: Double, weight: Double) {
        let weighted = weight * jacobian
        right -= weighted * residual
        m0 += weighted[0] * jacobian
        m1 += weighted[1] * jacobian
        m2 += weighted[2] * jacobian
        m3 += weighted[3] * jacobian
        m4 += weighted[4] * jacobian
        absoluteResidualSum += abs(residual)
        count += 1
    }

    static func + (a: NormalEquations, b: NormalEquations) -> NormalEquations {
        NormalEquations(
            m0: a.m0 + b.m0, m1: a.m1 + b.m1, m2: a.m2 + b.m2, m3: a.m3 + b.m3, m4: a.m4 + b.m4, right: a.right + b.right,
            absoluteResidualSum: a.absoluteResidualSum + b.absoluteResidualSum, count: a.count + b.count)
    }

    /// The step that solves them; nil when they are singular.
    func solution() -> [Double]? {
        let matrix = [m0, m1, m2, m3, m4].flatMap { row in (0..<5).map { row[$0] } }
        return solveLinearSystem(matrix, (0..<5).map { right[$0] }, size: 5)
    }
}

/// Normalised cross-correlation of `source` with `reference` moved by whole pixels: source pixel x
/// against reference pixel x + (dx, dy), over the overlap.
private func shiftedCorrelation(_ source: Plane, _ reference: Plane, dx: Int, dy: Int) -> Double {
    var sums = CorrelationSums()
    let columns = max(0, -dx)..<min(source.width, reference.width - dx)
    let rows = max(0, -dy)..<min(source.height, reference.height - dy)
    guard !columns.isEmpty, !rows.isEmpty else { return -1 }
    source.pixels.withUnsafeBufferPointer { s in
        reference.pixels.withUnsafeBufferPointer { r in
            for y in rows {
                for x in columns { sums.add(Double(s[y * source.width + x]), Double(r[(y + dy) * reference.width + x + dx])) }
            }
        }
    }
    return sums.correlation
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
