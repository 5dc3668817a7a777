import Foundation

/// Step 8, defocus as the paper infers it from depth: `M = sigmoid((‖P(x) − P(x_f)‖² − γ) / σ_f)`,
/// P being the parallax. Off by default: `DefocusMap` measures the blur itself.
///
/// T, with its longer lens, has the shallower depth of field, so where the scene lies far from
/// the depth T focused on, T may be blurrier than W. Depth is not known, but parallax is: it
/// differs from the focus plane's in proportion to the difference of inverse depth, and so does
/// the defocus blur. Parallax is the flow less what the coarse model explains: on a real rig T
/// is turned and scaled a little against W, which moves the flow smoothly across the frame
/// without any change of depth (read as depth, it once withheld T almost everywhere). The focus
/// plane's parallax P(x_f) is the centre of the largest k-means cluster inside the autofocus
/// region: the region may also hold some foreground or background, but most of it is what the
/// camera focused on.
///
/// It reads any flow the coarse model leaves as depth: lens distortion, which no similarity or
/// homography takes out, moves a real rig's corners by several pixels, and there it withholds
/// T however sharp T is. Flow is in full-resolution pixels of I_src (see `BlendTuning`).
public struct ParallaxDefocusMap: BlendMap {
    public static let name = "defocus-parallax"

    /// k of the k-means.
    public var clusters: Int
    /// γ, px².
    public var gamma: Float
    /// σ_f, px².
    public var softness: Float

    public init(
        clusters: Int = BlendTuning.defocusClusters, gamma: Float = BlendTuning.defocusGamma,
        softness: Float = BlendTuning.defocusSoftness
    ) {
        precondition(clusters >= 1 && softness > 0, "k-means needs a cluster and the sigmoid a positive softness")
        self.clusters = clusters
        self.gamma = gamma
        self.softness = softness
    }

    public func map(_ inputs: BlendInputs) -> Plane {
        let size = inputs.mapSize
        var result = Plane(width: size.width, height: size.height)
        // No visible flow anywhere: nothing says where the focus plane is, so nothing is flagged.
        let parallax = Self.parallax(inputs)
        guard let focus = focusParallax(inputs, parallax) else { return result }
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

    /// The flow less the coarse model's part of it.
    static func parallax(_ inputs: BlendInputs) -> FlowField {
        let flow = inputs.forwardFlow, coarse = inputs.coarseFlow
        return FlowField(
            u: Plane(width: flow.u.width, height: flow.u.height, pixels: zip(flow.u.pixels, coarse.u.pixels).map(-)),
            v: Plane(width: flow.v.width, height: flow.v.height, pixels: zip(flow.v.pixels, coarse.v.pixels).map(-)))
    }

    /// P(x_f) in pixels of the maps' grid: the centre of the largest cluster of the visible
    /// parallax vectors inside the autofocus region (or in the whole frame, if none of the region's is
    /// visible). Occluded vectors and those leading outside T describe no scene point of T.
    func focusParallax(_ inputs: BlendInputs, _ parallax: FlowField) -> SIMD2<Float>? {
        let size = inputs.mapSize, region = inputs.autofocusRegion
        func pixels(_ start: Double, _ length: Double, _ count: Int) -> Range<Int> {
            let first = min(max(Int((start * Double(count)).rounded(.down)), 0), count - 1)
            let end = min(max(Int(((start + length) * Double(count)).rounded(.up)), first + 1), count)
            return first..<end
        }
        let inRegion = visibleFlow(
            parallax, inputs, columns: pixels(region.x, region.width, size.width), rows: pixels(region.y, region.height, size.height))
        let points = inRegion.isEmpty ? visibleFlow(parallax, inputs, columns: 0..<size.width, rows: 0..<size.height) : inRegion
        guard !points.isEmpty else { return nil }
        return KMeans(points: points, clusters: clusters).largestClusterCentre()
    }

    private func visibleFlow(_ flow: FlowField, _ inputs: BlendInputs, columns: Range<Int>, rows: Range<Int>) -> [SIMD2<Float>] {
        let width = inputs.mapSize.width
        var points: [SIMD2<Float>] = []
        points.reserveCapacity(columns.count * rows.count)
        for y in rows {
            for x in columns {
                let i = y * width + x
                if inputs.occlusion.pixels[i] < 0.5 && inputs.outsideReference.pixels[i] == 0 {
                    points.append(SIMD2(flow.u.pixels[i], flow.v.pixels[i]))
                }
            }
        }
        return points
    }
}

/// Lloyd's k-means on 2-D points, started deterministically: the first centres are the points
/// at evenly spaced quantiles along the points' principal axis, so that the same flow always
/// gives the same focus plane.
struct KMeans {
    let points: [SIMD2<Float>]
    let clusters: Int
    static let maximumIterations = 20

    /// The centre of the cluster with the most points (the first of equals).
    func largestClusterCentre() -> SIMD2<Float> {
        var centres = initialCentres()
        var assignment = [Int](repeating: -1, count: points.count)
        for _ in 0..<Self.maximumIterations {
            guard assign(&assignment, to: centres) else { break }
            centres = means(assignment, previous: centres)
        }
        var counts = [Int](repeating: 0, count: centres.count)
        for cluster in assignment { counts[cluster] += 1 }
        return centres[counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }!]
    }

    private func initialCentres() -> [SIMD2<Float>] {
        let n = Float(points.count)
        let mean = points.reduce(SIMD2<Float>.zero, +) / n
        var (xx, xy, yy): (Float, Float, Float) = (0, 0, 0)
        for p in points {
            let d = p - mean
            (xx, xy, yy) = (xx + d.x * d.x, xy + d.x * d.y, yy + d.y * d.y)
        }
        let angle = 0.5 * atan2(2 * xy, xx - yy)
        let axis = SIMD2(cos(angle), sin(angle))
        let order = points.indices.sorted { ((points[$0] - mean) * axis).sum() < ((points[$1] - mean) * axis).sum() }
        let k = min(clusters, points.count)
        return (0..<k).map { points[order[(2 * $0 + 1) * points.count / (2 * k)]] }
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
        var sums = [SIMD2<Float>](repeating: .zero, count: previous.count), counts = [Float](repeating: 0, count: previous.count)
        for (p, cluster) in zip(points, assignment) {
            sums[cluster] += p
            counts[cluster] += 1
        }
        return previous.indices.map { counts[$0] > 0 ? sums[$0] / counts[$0] : previous[$0] }
    }
}
