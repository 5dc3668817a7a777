/// RANSAC on pairs of matches for a similarity (each pair fixes one), each candidate refitted to
/// its inliers; then a homography fitted to those and grown the same way, kept when it explains
/// clearly more. Samples come from a fixed seed, so the same matches give the same model.
struct RobustFit {
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
            let needed = max(
                Int(Double(similarityInliers.count) * CoarseTuning.homographyGain), similarityInliers.count + CoarseTuning.homographyMargin)
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
        let separation = CoarseTuning.minimumSampleSeparation * Double(frame.width)
        let allPairs = points.count * (points.count - 1) / 2 <= CoarseTuning.samples
        var best: (model: Homography, count: Int)?
        var pairs = allPairs ? (0..<points.count).flatMap { i in ((i + 1)..<points.count).map { (i, $0) } } : []
        if !allPairs {
            pairs = (0..<CoarseTuning.samples).map { _ in
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
        points.indices.filter { distance(model.apply(points[$0].source), points[$0].target) <= Double(CoarseTuning.inlierTolerance) }
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
