import Foundation

/// How the enabled maps become the blend weight.
public struct BlendSettings: Sendable {
    /// The maps that are summed, each with its own settings (`BlendMaps.named` finds one by name).
    public var maps: [any BlendMap]
    /// σ of the Gaussian that smooths M_blend, pixels of the maps' grid.
    public var smoothingSigma: Double
    /// Width of the ramp from 0 at the border of T's view to full weight, as a fraction of the
    /// frame width.
    public var featherWidth: Double
    /// Map values up to this are the maps' own noise and hold nothing back (`BlendTuning.mapNoiseFloor`).
    public var mapNoiseFloor: Float

    public init(
        maps: [any BlendMap] = BlendMaps.all, smoothingSigma: Double = BlendTuning.smoothingSigma,
        featherWidth: Double = BlendTuning.featherWidth, mapNoiseFloor: Float = BlendTuning.mapNoiseFloor
    ) {
        precondition(smoothingSigma >= 0 && featherWidth >= 0, "smoothing and feather cannot be negative")
        precondition((0..<1).contains(mapNoiseFloor), "the maps' noise floor \(mapNoiseFloor) is outside [0, 1)")
        self.maps = maps
        self.smoothingSigma = smoothingSigma
        self.featherWidth = featherWidth
        self.mapNoiseFloor = mapNoiseFloor
    }
}

/// Step 8's result, on the maps' grid.
public struct BlendWeights: Sendable {
    /// Each enabled map by name: for `output.maps` and `hzsr maps`.
    public var maps: [String: Plane]
    /// `M_blend` in [0, 1]: how much of `Y_fusion` each pixel takes.
    public var weight: Plane
    /// The mean of `M_blend` over T's view (where the flow stays inside T): how much of what T
    /// sees was fused.
    public var coverage: Double
    /// Milliseconds per map (by name) and for combining them (`combineStep`).
    public var timings: StageTimings

    /// The step after the maps, in `timings` (`blend.combine` in a capture's).
    public static let combineStep = "combine"
}

/// Steps 8 and 9: the blend weight from the maps, and the composition of `Y_fusion` with `Y_src`.
public enum Blend {
    /// `M_blend = max(1 − ΣM, 0)` over the enabled maps, smoothed, and feathered to 0 at the border
    /// of T's view. Each map's values up to `BlendTuning.mapNoiseFloor` are its noise and left out.
    ///
    /// Before smoothing, the weight is eroded by the distance at which the Gaussian would lift a
    /// pixel next to a flagged region above 0.1, so that smoothing softens the transitions into
    /// clean areas rather than leaking T into the pixels the maps rejected.
    public static func weights(_ inputs: BlendInputs, settings: BlendSettings = BlendSettings()) -> BlendWeights {
        var clock = StageClock()
        var maps: [String: Plane] = [:]
        for map in settings.maps {
            maps[map.name] = map.map(inputs)
            clock.lap(named: map.name)
        }
        let size = inputs.mapSize
        var trust = Plane(width: size.width, height: size.height, value: 1)
        // In the configured order: a dictionary's order differs from one instance to the next,
        // and floats subtracted in another order may differ in the last bit.
        for map in settings.maps { subtract(maps[map.name]!, from: &trust, floor: settings.mapNoiseFloor) }
        let radius = Int((rejectionQuantile * settings.smoothingSigma).rounded(.up))
        var weight = gaussianBlur(minimumFilter(trust, radius: radius), sigma: settings.smoothingSigma)
        multiply(&weight, by: feather(outside: inputs.outsideReference, width: settings.featherWidth * Double(size.width)))
        let coverage = meanInsideView(weight, outside: inputs.outsideReference)
        clock.lap(named: BlendWeights.combineStep)
        return BlendWeights(maps: maps, weight: weight, coverage: coverage, timings: clock.timings)
    }

    /// Step 9: `Y = M_blend·Y_fusion + (1 − M_blend)·Y_src` at full resolution, with `weight` (on
    /// the maps' grid) enlarged bilinearly on the way: a smooth map needs no more, and no
    /// full-resolution weight plane is ever made. The result is written over `fusion`'s samples
    /// when the caller hands over the only reference to them (as a fusion stage's fresh output
    /// is), so that no second 12 MP plane (48 MB) is allocated; otherwise they are copied first.
    public static func compose(fusion: consuming Plane, source: Plane, weight: Plane) -> Plane {
        compose(fusion: fusion, source: SourceLuma(source), weight: weight)
    }

    /// The same with `Y_src` held or made as it is read, a band of rows at a time.
    public static func compose(fusion: consuming Plane, source: SourceLuma, weight: Plane) -> Plane {
        precondition(fusion.size == source.size, "Y_fusion \(fusion.size) and Y_src \(source.size) differ in size")
        let (width, height) = (source.size.width, source.size.height)
        let rows = widenedRows(weight, to: width)
        let vertical = LinearTaps(from: weight.height, to: height)
        var result = fusion
        rows.withUnsafeBufferPointer { rows in
            result.pixels.withUnsafeMutableBufferPointer { output in
                let output = UncheckedSendable(output)
                source.forEachBand { band, sourceRows in
                    for y in band {
                        let (first, second, t) = vertical.taps(y)
                        let a = rows.baseAddress! + first * width, b = rows.baseAddress! + second * width
                        let s = sourceRows + (y - band.lowerBound) * width, out = output.value.baseAddress! + y * width
                        for x in 0..<width {
                            let blend = a[x] + t * (b[x] - a[x])
                            out[x] = s[x] + blend * (out[x] - s[x])
                        }
                    }
                }
            }
        }
        return result
    }

    /// What fusion and blending changed in I_src, `composed − source`: what `paste` adds to a W
    /// digital zoom. Made once per capture, however many zooms take it.
    public static func change(from source: Plane, to composed: Plane) -> Plane {
        change(from: SourceLuma(source), to: composed)
    }

    /// The same with `Y_src` held or made as it is read, a band of rows at a time.
    public static func change(from source: SourceLuma, to composed: Plane) -> Plane {
        precondition(composed.size == source.size, "Y \(composed.size) and Y_src \(source.size) differ in size")
        let (width, height) = (composed.width, composed.height)
        var change = Plane(width: width, height: height)
        composed.pixels.withUnsafeBufferPointer { composed in
            change.pixels.withUnsafeMutableBufferPointer { output in
                let output = UncheckedSendable(output)
                source.forEachBand { band, source in
                    let first = band.lowerBound * width
                    for i in 0..<(band.count * width) { output.value[first + i] = composed[first + i] - source[i] }
                }
            }
        }
        return change
    }

    /// Pastes what fusion changed in I_src (`change`) into `output`, a W digital zoom in which
    /// I_src's frame covers `placement` (output pixels, from `DigitalZoom.placement`): the change
    /// is resampled to the placement and added. Where the blend weight is 0, and so all along the
    /// feathered border of T's view, the change is 0: no seam, and the output keeps W's own
    /// rendering there instead of I_src resampled a second time. Parts of the placement outside
    /// `output` are cut off.
    public static func paste(_ difference: Plane, into output: inout Plane, at placement: Rect) {
        let columns = max(Int(placement.x.rounded(.down)), 0)..<min(Int((placement.x + placement.width).rounded(.up)), output.width)
        let rows = max(Int(placement.y.rounded(.down)), 0)..<min(Int((placement.y + placement.height).rounded(.up)), output.height)
        guard !columns.isEmpty, !rows.isEmpty else { return }
        // Output pixel columns `columns` cover this part of I_src, in I_src's pixels.
        let sx = Double(difference.width) / placement.width, sy = Double(difference.height) / placement.height
        let region = Rect(
            x: (Double(columns.lowerBound) - placement.x) * sx, y: (Double(rows.lowerBound) - placement.y) * sy,
            width: Double(columns.count) * sx, height: Double(rows.count) * sy)
        let change = resample(difference, from: region, to: Size(width: columns.count, height: rows.count))
        for (j, y) in rows.enumerated() {
            for (i, x) in columns.enumerated() { output[x, y] += change[i, j] }
        }
    }

    /// `difference` (on `I_src`'s grid) added to the output pixels that `mapping` (output →
    /// `I_src`, continuous coordinates) takes inside it: the paste for a view turned against the
    /// output. A difference larger than the output's scale is first shrunk to it (low-passed),
    /// so the turn itself only reads at about one to one.
    public static func paste(_ difference: Plane, into output: inout Plane, mapping: Homography) {
        let centre = SIMD2(Double(output.width), Double(output.height)) / 2
        let shrink = 1 / max(mapping.localScaleAndRotation(at: centre).scale, 1)
        let size = Size(
            width: max(1, Int((Double(difference.width) * shrink).rounded())),
            height: max(1, Int((Double(difference.height) * shrink).rounded())))
        let plane = size == difference.size ? difference : resample(difference, from: difference.size.bounds, to: size)
        let toPlane = mapping.followed(
            by: .scaling(x: Double(size.width) / Double(difference.width), y: Double(size.height) / Double(difference.height)))
        guard let toOutput = toPlane.inverse else { return }
        let corners = [SIMD2(0, 0), SIMD2(Double(size.width), 0), SIMD2(0, Double(size.height)), SIMD2(Double(size.width), Double(size.height))]
            .map(toOutput.apply)
        let columns = max(Int(corners.map(\.x).min()!.rounded(.down)), 0)..<min(Int(corners.map(\.x).max()!.rounded(.up)), output.width)
        let rows = max(Int(corners.map(\.y).min()!.rounded(.down)), 0)..<min(Int(corners.map(\.y).max()!.rounded(.up)), output.height)
        guard !columns.isEmpty, !rows.isEmpty else { return }
        let width = output.width, limit = (x: Double(size.width) - 0.5, y: Double(size.height) - 0.5)
        plane.pixels.withUnsafeBufferPointer { pixels in
            output.pixels.withUnsafeMutableBufferPointer { values in
                let values = UncheckedSendable(values)
                let reader = PlaneReader(pixels: pixels, width: size.width, height: size.height)
                parallelChunks(rows.count, itemCost: columns.count) { chunk in
                    for y in chunk.map({ $0 + rows.lowerBound }) {
                        for x in columns {
                            let at = toPlane.apply(SIMD2(Double(x) + 0.5, Double(y) + 0.5)) - 0.5
                            guard at.x >= -0.5, at.y >= -0.5, at.x <= limit.x, at.y <= limit.y else { continue }
                            values.value[y * width + x] += reader.bicubic(Float(at.x), Float(at.y))
                        }
                    }
                }
            }
        }
    }

    /// Φ⁻¹(0.9): a Gaussian of σ lifts a pixel this many σ inside a flagged half-plane to 0.1.
    private static let rejectionQuantile = 1.2816
}

/// `trust = max(trust − map, 0)`, with the map's values up to `floor` left out.
private func subtract(_ map: Plane, from trust: inout Plane, floor: Float) {
    map.pixels.withUnsafeBufferPointer { map in
        trust.pixels.withUnsafeMutableBufferPointer { trust in
            for i in trust.indices { trust[i] = max(trust[i] - max(map[i] - floor, 0) / (1 - floor), 0) }
        }
    }
}

private func multiply(_ plane: inout Plane, by factor: Plane) {
    factor.pixels.withUnsafeBufferPointer { factor in
        plane.pixels.withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] *= factor[i] }
        }
    }
}

/// Each pixel the least value within `radius` (a square), separably: erosion of the trusted area.
func minimumFilter(_ plane: Plane, radius: Int) -> Plane {
    guard radius > 0 else { return plane }
    let width = plane.width, height = plane.height
    var rows = plane, result = plane
    for y in 0..<height {
        for x in 0..<width {
            var least = plane.pixels[y * width + x]
            for k in max(x - radius, 0)...min(x + radius, width - 1) { least = min(least, plane.pixels[y * width + k]) }
            rows.pixels[y * width + x] = least
        }
    }
    for y in 0..<height {
        for x in 0..<width {
            var least = rows.pixels[y * width + x]
            for k in max(y - radius, 0)...min(y + radius, height - 1) { least = min(least, rows.pixels[k * width + x]) }
            result.pixels[y * width + x] = least
        }
    }
    return result
}

/// A ramp from 0 on the border of T's view (the frame's edge and wherever the flow leads outside
/// T) to 1 at `width` pixels inside it, smoothstep-shaped so that its slope is 0 at both ends
/// and no edge shows in the blend. Distances are two-pass chamfer distances (steps 1 and √2):
/// within 8 % of Euclidean, plenty for a feather.
func feather(outside: Plane, width: Double) -> Plane {
    let w = outside.width, h = outside.height
    var distance = Plane(width: w, height: h)
    for y in 0..<h {
        for x in 0..<w where outside[x, y] < 0.5 {
            distance[x, y] = Float(min(x, w - 1 - x, y, h - 1 - y))
        }
    }
    let diagonal = Float(2).squareRoot()
    // Forward pass: neighbours above and to the left; backward: below and to the right.
    for y in 0..<h {
        for x in 0..<w {
            var d = distance[x, y]
            if x > 0 { d = min(d, distance[x - 1, y] + 1) }
            if y > 0 {
                d = min(d, distance[x, y - 1] + 1)
                if x > 0 { d = min(d, distance[x - 1, y - 1] + diagonal) }
                if x < w - 1 { d = min(d, distance[x + 1, y - 1] + diagonal) }
            }
            distance[x, y] = d
        }
    }
    for y in stride(from: h - 1, through: 0, by: -1) {
        for x in stride(from: w - 1, through: 0, by: -1) {
            var d = distance[x, y]
            if x < w - 1 { d = min(d, distance[x + 1, y] + 1) }
            if y < h - 1 {
                d = min(d, distance[x, y + 1] + 1)
                if x < w - 1 { d = min(d, distance[x + 1, y + 1] + diagonal) }
                if x > 0 { d = min(d, distance[x - 1, y + 1] + diagonal) }
            }
            distance[x, y] = d
        }
    }
    let scale = width > 0 ? Float(1 / width) : .infinity
    for i in distance.pixels.indices {
        let t = min(distance.pixels[i] * scale, 1)
        distance.pixels[i] = t.isNaN ? 0 : t * t * (3 - 2 * t)
    }
    return distance
}

/// The mean of `plane` over the pixels whose flow stays inside T; 0 if there are none.
private func meanInsideView(_ plane: Plane, outside: Plane) -> Double {
    var sum = 0.0, count = 0
    for i in plane.pixels.indices where outside.pixels[i] < 0.5 {
        sum += Double(plane.pixels[i])
        count += 1
    }
    return count > 0 ? sum / Double(count) : 0
}

/// Each row of `plane` enlarged to `width` by linear interpolation, pixel centres aligned:
/// `plane.height` rows of `width`, ready for the vertical interpolation in `compose`.
private func widenedRows(_ plane: Plane, to width: Int) -> [Float] {
    let horizontal = LinearTaps(from: plane.width, to: width)
    var rows = [Float](repeating: 0, count: plane.height * width)
    for y in 0..<plane.height {
        for x in 0..<width {
            let (first, second, t) = horizontal.taps(x)
            let a = plane.pixels[y * plane.width + first], b = plane.pixels[y * plane.width + second]
            rows[y * width + x] = a + t * (b - a)
        }
    }
    return rows
}

/// Linear interpolation from `inputCount` samples to `outputCount`, pixel centres aligned, edges
/// repeated: output sample i lies at input position (i + ½)·in/out − ½.
private struct LinearTaps {
    let inputCount: Int
    let scale: Double

    init(from inputCount: Int, to outputCount: Int) {
        self.inputCount = inputCount
        scale = Double(inputCount) / Double(outputCount)
    }

    @inline(__always)
    func taps(_ output: Int) -> (first: Int, second: Int, fraction: Float) {
        let position = min(max((Double(output) + 0.5) * scale - 0.5, 0), Double(inputCount - 1))
        let first = Int(position)
        return (first, min(first + 1, inputCount - 1), Float(position - Double(first)))
    }
}
