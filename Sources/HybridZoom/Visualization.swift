import Foundation

// Planes turned into images for people to look at (contact sheets, the daemon's published maps):
// maps that are not pictures get a colour code, and everything comes out as a YCbCrImage ready
// for `encodeJPEG`.

/// `plane` as a grey picture (neutral 4:2:0 chroma).
public func grayImage(_ plane: Plane) -> YCbCrImage {
    let chroma = YCbCrImage.chroma420Size(for: plane.size)
    let neutral = Plane(width: chroma.width, height: chroma.height, value: 0.5)
    return YCbCrImage(y: plane, cb: neutral, cr: neutral)
}

/// The difference a − b as grey around mid-grey: 0.5 + gain·(a − b), clipped to [0, 1]. Brighter
/// where `a` is larger.
public func differenceImage(_ a: Plane, _ b: Plane, gain: Float) -> YCbCrImage {
    precondition(a.size == b.size, "cannot subtract planes of different sizes \(a.size) and \(b.size)")
    let difference = zip(a.pixels, b.pixels).map { (0.5 + gain * ($0 - $1)).clamped(to: 0...1) }
    return grayImage(Plane(width: a.width, height: a.height, pixels: difference))
}

/// A map such as uncertainty or occlusion on a perceptual ramp from dark blue (`range`'s lower bound
/// and below) through teal and green to yellow (upper bound and above). Brightness rises steadily
/// along the ramp, so it also reads correctly in grey.
public func heatImage(_ plane: Plane, range: ClosedRange<Float>) -> YCbCrImage {
    let span = max(range.upperBound - range.lowerBound, .leastNormalMagnitude)
    return plane.pixels.withUnsafeBufferPointer { values in
        colourImage(plane.size) { index in
            heatRamp.colour(at: (values[index] - range.lowerBound) / span)
        }
    }
}

/// Optical flow (u right, v down, in pixels) in the Middlebury colour code: hue gives the direction
/// (right red, down yellow, left cyan, up blue-violet), saturation the magnitude relative to
/// `maxMagnitude` (the field's largest when nil), from white at rest to the full colour.
public func flowImage(u: Plane, v: Plane, maxMagnitude: Float? = nil) -> YCbCrImage {
    precondition(u.size == v.size, "flow components differ in size: \(u.size) and \(v.size)")
    let largest = maxMagnitude ?? zip(u.pixels, v.pixels).reduce(0) { max($0, hypot($1.0, $1.1)) }
    let inverseLargest = largest > 0 ? 1 / largest : 0
    return u.pixels.withUnsafeBufferPointer { uValues in
        v.pixels.withUnsafeBufferPointer { vValues in
            colourImage(u.size) { index in
                let dx = uValues[index], dy = vValues[index]
                // With y pointing down, atan2 turns clockwise on screen: right 0, down a quarter turn.
                let angle = atan2(dy, dx)
                let turn = angle < 0 ? angle / (2 * .pi) + 1 : angle / (2 * .pi)
                let saturation = min(hypot(dx, dy) * inverseLargest, 1)
                return flowWheel.colour(at: turn).fadedToWhite(saturation: saturation)
            }
        }
    }
}

private struct RGB {
    var r: Float, g: Float, b: Float

    /// Mixed with white: saturation 0 is white, 1 the colour itself.
    func fadedToWhite(saturation: Float) -> RGB {
        RGB(r: 1 - saturation * (1 - r), g: 1 - saturation * (1 - g), b: 1 - saturation * (1 - b))
    }

    static func + (a: RGB, b: RGB) -> RGB { RGB(r: a.r + b.r, g: a.g + b.g, b: a.b + b.b) }
    static func * (a: RGB, t: Float) -> RGB { RGB(r: a.r * t, g: a.g * t, b: a.b * t) }
}

/// Colours at increasing positions, interpolated linearly in between and held beyond the ends.
private struct ColourRamp {
    let stops: [(position: Float, colour: RGB)]

    func colour(at position: Float) -> RGB {
        guard position > stops[0].position else { return stops[0].colour }
        guard let upper = stops.firstIndex(where: { $0.position >= position }) else { return stops[stops.count - 1].colour }
        let (low, high) = (stops[upper - 1], stops[upper])
        let t = (position - low.position) / (high.position - low.position)
        return low.colour * (1 - t) + high.colour * t
    }
}

/// Samples of matplotlib's viridis at 0, ¼, ½, ¾ and 1: perceptually uniform, monotonic in lightness.
private let heatRamp = ColourRamp(stops: [
    (0, RGB(r: 0.267, g: 0.005, b: 0.329)), (0.25, RGB(r: 0.229, g: 0.322, b: 0.546)),
    (0.5, RGB(r: 0.128, g: 0.567, b: 0.551)), (0.75, RGB(r: 0.369, g: 0.789, b: 0.383)),
    (1, RGB(r: 0.993, g: 0.906, b: 0.144)),
])

/// The Middlebury flow wheel (Baker et al. 2011) over one turn: 55 steps split red–yellow 15,
/// yellow–green 6, green–cyan 4, cyan–blue 11, blue–magenta 13, magenta–red 6, which spaces the
/// hues more evenly to the eye than equal steps would.
private let flowWheel = ColourRamp(
    stops: [
        (0, RGB(r: 1, g: 0, b: 0)), (15, RGB(r: 1, g: 1, b: 0)), (21, RGB(r: 0, g: 1, b: 0)),
        (25, RGB(r: 0, g: 1, b: 1)), (36, RGB(r: 0, g: 0, b: 1)), (49, RGB(r: 1, g: 0, b: 1)),
        (55, RGB(r: 1, g: 0, b: 0)),
    ].map { (position: Float($0.0) / 55, colour: $0.1) })

/// A 4:4:4 image of `size` whose pixel at row-major `index` has `colourAt(index)`, converted to
/// YCbCr with the BT.601 full-range matrix that JPEG (JFIF) uses.
private func colourImage(_ size: Size, _ colourAt: (Int) -> RGB) -> YCbCrImage {
    var y = Plane(width: size.width, height: size.height)
    var cb = y, cr = y
    y.pixels.withUnsafeMutableBufferPointer { yOut in
        cb.pixels.withUnsafeMutableBufferPointer { cbOut in
            cr.pixels.withUnsafeMutableBufferPointer { crOut in
                let planes = UncheckedSendable((y: yOut, cb: cbOut, cr: crOut))
                parallelChunks(size.height) { rows in
                    for index in (rows.lowerBound * size.width)..<(rows.upperBound * size.width) {
                        let c = colourAt(index)
                        planes.value.y[index] = 0.299 * c.r + 0.587 * c.g + 0.114 * c.b
                        planes.value.cb[index] = 0.5 - 0.168736 * c.r - 0.331264 * c.g + 0.5 * c.b
                        planes.value.cr[index] = 0.5 + 0.5 * c.r - 0.418688 * c.g - 0.081312 * c.b
                    }
                }
            }
        }
    }
    return YCbCrImage(y: y, cb: cb, cr: cr)
}
