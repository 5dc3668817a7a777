import Foundation

/// Step 8, defocus as the paper infers it from depth: `M = sigmoid((‖P(x) − P(x_f)‖² − γ) / σ_f)`,
/// P being the parallax. Beside `DefocusMap`, which measures the blur itself, it catches depths
/// so far off the focus plane that the flow is not to be trusted there either.
///
/// T, with its longer lens, has the shallower depth of field, so where the scene lies far from
/// the depth T focused on, T may be blurrier than W. Depth is not known, but parallax is: it
/// differs from the focus plane's in proportion to the difference of inverse depth, and so does
/// the defocus blur. Parallax is the flow less what the rig's geometry explains: on a real rig
/// T is turned and scaled a little against W and the two lenses bend differently, which moves
/// the flow smoothly across the frame without any change of depth (read as depth, it once
/// withheld T almost everywhere).
///
/// The focus plane's parallax P(x_f) is the centre of the largest k-means cluster of the
/// parallax vectors inside the autofocus region: the region may also hold some foreground or
/// background, but most of it is what the camera focused on. Unless T has almost no detail
/// there: a flat region's flow is interpolated from its surroundings and says nothing of its
/// depth (a sky around a mover in the centre made the whole frame "defocused"), so the whole
/// frame's vectors decide, each weighted by T's detail, since what T shows detail in is what it
/// can be in focus in.
///
/// Lens distortion, which no similarity or homography takes out, moves a rig's corners by
/// several pixels with no change of depth; read as depth, it withheld T around the edges of
/// sharp, well-aligned frames. So what the coarse model leaves smooth across the frame is fitted
/// and taken out too (`LensResidual`). γ and σ_f are in full-resolution pixels of I_src.
public struct ParallaxDefocusMap: BlendMap {
    public static let name = "defocus-parallax"

    /// k of the k-means.
    public var clusters: Int
    /// γ, px².
    public var gamma: Float
    /// σ_f, px².
    public var softness: Float
    /// T's mean detail in the autofocus region over its mean in the frame below which the
    /// region is flat and the frame picks the focus plane.
    public var flatRegion: Float

    public init(
        clusters: Int = BlendTuning.defocusClusters, gamma: Float = BlendTuning.defocusGamma,
        softness: Float = BlendTuning.defocusSoftness, flatRegion: Float = BlendTuning.defocusFlatRegion
    ) {
        precondition(clusters >= 1 && softness > 0, "k-means needs a cluster and the sigmoid a positive softness")
        self.clusters = clusters
        self.gamma = gamma
        self.softness = softness
        self.flatRegion = flatRegion
    }

    public func map(_ inputs: BlendInputs) -> Plane {
        let size = inputs.mapSize
        var result = Plane(width: size.width, height: size.height)
        let detail = Self.detail(inputs)
        let parallax = Self.parallax(inputs, detail: detail)
        // No visible flow anywhere: nothing says where the focus plane is, so nothing is flagged.
        guard let focus = focusParallax(inputs, parallax, detail: detail) else { return result }
        let unit = inputs.fullResolutionScale, gamma = gamma, softness = softness
        parallax.u.pixels.withUnsafeBufferPointer { u in
            parallax.v.pixels.withUnsafeBufferPointer { v in
                result.pixels.withUnsafeMutableBufferPointer { output in
                    for i in output.indices {
                        let du = (u[i] - focus.x) * unit, dv = (v[i] - focus.y) * unit
                        output[i] = 1 / (1 + exp((gamma - (du * du + dv * dv)) / softness))
                    }
                }
            }
        }
        return result
    }

    /// The flow less its global geometric part: what the coarse model explains, then what is
    /// left smooth across the whole frame (`LensResidual`), fitted to the vectors T shows detail
    /// in. What remains differs from point to point only with depth.
    static func parallax(_ inputs: BlendInputs, detail: Plane) -> FlowField {
        let flow = inputs.forwardFlow, coarse = inputs.coarseFlow
        var parallax = FlowField(
            u: Plane(width: flow.u.width, height: flow.u.height, pixels: zip(flow.u.pixels, coarse.u.pixels).map(-)),
            v: Plane(width: flow.v.width, height: flow.v.height, pixels: zip(flow.v.pixels, coarse.v.pixels).map(-)))
        let size = parallax.size, step = max(Int((Double(size.pixelCount) / Double(LensResidual.samples)).squareRoot()), 1)
        let lattice = (columns: Array(stride(from: 0, to: size.width, by: step)), rows: Array(stride(from: 0, to: size.height, by: step)))
        let visible = visibleFlow(parallax, inputs, detail, columns: lattice.columns, rows: lattice.rows)
        if let residual = LensResidual(fitting: visible, grid: size, cauchyScale: LensResidual.cauchyScale / inputs.fullResolutionScale) {
            residual.subtract(from: &parallax)
        }
        return parallax
    }

    /// P(x_f) in pixels of the maps' grid: the centre of the largest cluster of the visible
    /// parallax vectors inside the autofocus region; or, where T has almost no detail there
    /// (`flatRegion`) or none of the region's vectors is visible, of the whole frame's, each
    /// weighted by T's detail. Occluded vectors and those leading outside T describe no scene
    /// point of T.
    func focusParallax(_ inputs: BlendInputs, _ parallax: FlowField, detail: Plane) -> SIMD2<Float>? {
        let size = inputs.mapSize, region = inputs.autofocusRegion
        func pixels(_ start: Double, _ length: Double, _ count: Int) -> Range<Int> {
            let first = min(max(Int((start * Double(count)).rounded(.down)), 0), count - 1)
            let end = min(max(Int(((start + length) * Double(count)).rounded(.up)), first + 1), count)
            return first..<end
        }
        let frame = Self.visibleFlow(parallax, inputs, detail, columns: 0..<size.width, rows: 0..<size.height)
        let inRegion = Self.visibleFlow(
            parallax, inputs, detail, columns: pixels(region.x, region.width, size.width),
            rows: pixels(region.y, region.height, size.height))
        guard !frame.points.isEmpty else { return nil }
        func mean(_ values: [Float]) -> Float { values.reduce(0, +) / Float(values.count) }
        let alike = { (count: Int) in [Float](repeating: 1, count: count) }
        let sameDepth = BlendTuning.defocusSameDepth / inputs.fullResolutionScale
        if !inRegion.points.isEmpty && mean(inRegion.weights) >= flatRegion * mean(frame.weights) {
            return KMeans(points: inRegion.points, weights: alike(inRegion.points.count), clusters: clusters)
                .largestClusterCentre(merging: sameDepth)
        }
        let weights = frame.weights.contains { $0 > 0 } ? frame.weights : alike(frame.points.count)
        return KMeans(points: frame.points, weights: weights, clusters: clusters)
            .largestClusterCentre(merging: sameDepth)
    }

    /// T's detail on the maps' grid: the local energy of the finest band of Ỹ_ref shrunk onto it.
    /// A flat area's flow is interpolated from its surroundings and says nothing of its depth;
    /// what T shows detail in is what it can be sharp or blurred in.
    static func detail(_ inputs: BlendInputs) -> Plane {
        // The tent kernel low-passes enough for a weight, at half the bicubic's taps.
        let shrunk = resample(inputs.warpedReference, from: inputs.source.size.bounds, to: inputs.mapSize, interpolation: .bilinear)
        return localEnergy(of: fineBand(shrunk, sigma: 1), over: 1, onto: inputs.mapSize)
    }

    private static func visibleFlow(
        _ flow: FlowField, _ inputs: BlendInputs, _ detail: Plane, columns: some Collection<Int>, rows: some Collection<Int>
    ) -> (points: [SIMD2<Float>], weights: [Float], indices: [Int]) {
        let width = inputs.mapSize.width
        var points: [SIMD2<Float>] = [], weights: [Float] = [], indices: [Int] = []
        points.reserveCapacity(columns.count * rows.count)
        weights.reserveCapacity(columns.count * rows.count)
        indices.reserveCapacity(columns.count * rows.count)
        for y in rows {
            for x in columns {
                let i = y * width + x
                if inputs.occlusion.pixels[i] < 0.5 && inputs.outsideReference.pixels[i] == 0 {
                    points.append(SIMD2(flow.u.pixels[i], flow.v.pixels[i]))
                    weights.append(detail.pixels[i])
                    indices.append(i)
                }
            }
        }
        return (points, weights, indices)
    }
}

/// Lloyd's k-means on weighted 2-D points, started deterministically: the first centres are the
/// points at evenly spaced weighted quantiles along the points' principal axis, so that the same
/// flow always gives the same focus plane.
struct KMeans {
    let points: [SIMD2<Float>]
    let weights: [Float]
    let clusters: Int
    static let maximumIterations = 20

    /// The centre of the cluster with the most weight (the first of equals), counting as one
    /// with it the clusters whose centres lie within `radius` of its own: Lloyd's splits an
    /// evenly spread majority as readily as it keeps a compact minority whole.
    func largestClusterCentre(merging radius: Float) -> SIMD2<Float> {
        var centres = initialCentres()
        var assignment = [Int](repeating: -1, count: points.count)
        for _ in 0..<Self.maximumIterations {
            guard assign(&assignment, to: centres) else { break }
            centres = means(assignment, previous: centres)
        }
        var mass = [Float](repeating: 0, count: centres.count)
        for (cluster, weight) in zip(assignment, weights) { mass[cluster] += weight }
        let near = centres.map { centre in centres.indices.filter { ((centres[$0] - centre) * (centres[$0] - centre)).sum() <= radius * radius } }
        let merged = near.map { group in group.reduce(0) { $0 + mass[$1] } }
        let best = merged.indices.max { merged[$0] < merged[$1] || (merged[$0] == merged[$1] && $0 > $1) }!
        guard merged[best] > 0 else { return centres[best] }
        return near[best].reduce(SIMD2<Float>.zero) { $0 + mass[$1] * centres[$1] } / merged[best]
    }

    private func initialCentres() -> [SIMD2<Float>] {
        let total = weights.reduce(0, +)
        let mean = zip(points, weights).reduce(SIMD2<Float>.zero) { $0 + $1.0 * $1.1 } / total
        var (xx, xy, yy): (Float, Float, Float) = (0, 0, 0)
        for (p, w) in zip(points, weights) {
            let d = p - mean
            (xx, xy, yy) = (xx + w * d.x * d.x, xy + w * d.x * d.y, yy + w * d.y * d.y)
        }
        let angle = 0.5 * atan2(2 * xy, xx - yy)
        let axis = SIMD2(cos(angle), sin(angle))
        let order = points.indices.sorted { ((points[$0] - mean) * axis).sum() < ((points[$1] - mean) * axis).sum() }
        let k = min(clusters, points.count)
        // The points at weighted quantiles (2j + 1) / 2k along the axis.
        var centres: [SIMD2<Float>] = [], cumulative: Float = 0
        for index in order where centres.count < k {
            cumulative += weights[index]
            while centres.count < k && cumulative >= Float(2 * centres.count + 1) / Float(2 * k) * total {
                centres.append(points[index])
            }
        }
        while centres.count < k { centres.append(points[order.last!]) }
        return centres
    }

    /// Each point to its nearest centre; false when nothing changed.
    private func assign(_ assignment: inout [Int], to centres: [SIMD2<Float>]) -> Bool {
        var changed = false
        for (i, p) in points.enumerated() {
            var best = 0, bestDistance = Float.infinity
            for (c, centre) in centres.enumerated() {
                let d = p - centre, distance = (d * d).sum()
                if distance < bestDistance { (best, bestDistance) = (c, distance) }
            }
            if assignment[i] != best { (assignment[i], changed) = (best, true) }
        }
        return changed
    }

    /// Each cluster's mean; a cluster left empty keeps its centre.
    private func means(_ assignment: [Int], previous: [SIMD2<Float>]) -> [SIMD2<Float>] {
        var sums = [SIMD2<Float>](repeating: .zero, count: previous.count), mass = [Float](repeating: 0, count: previous.count)
        for ((p, w), cluster) in zip(zip(points, weights), assignment) {
            sums[cluster] += w * p
            mass[cluster] += w
        }
        return previous.indices.map { mass[$0] > 0 ? sums[$0] / mass[$0] : previous[$0] }
    }
}
