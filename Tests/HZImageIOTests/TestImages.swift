import Foundation
import HybridZoom

func mean(_ values: [Float]) -> Double {
    values.reduce(0) { $0 + Double($1) } / Double(values.count)
}

func meanAbsoluteDifference(_ a: [Float], _ b: [Float]) -> Double {
    zip(a, b).reduce(0) { $0 + Double(abs($1.0 - $1.1)) } / Double(a.count)
}

/// Peak signal-to-noise ratio in dB for values in [0, 1].
func psnr(_ a: Plane, _ b: Plane) -> Double {
    precondition(a.size == b.size)
    let meanSquaredError =
        zip(a.pixels, b.pixels).reduce(0) { $0 + pow(Double($1.0 - $1.1), 2) }
        / Double(a.pixels.count)
    return 10 * log10(1 / meanSquaredError)
}

/// A smooth plane of `size`, with a different pattern for each `phase`.
func smoothPlane(_ size: Size, phase: Double) -> Plane {
    var plane = Plane(width: size.width, height: size.height)
    for y in 0..<size.height {
        for x in 0..<size.width {
            let wave = sin(Double(x) / 9 + phase) * cos(Double(y) / 13 - phase)
            plane[x, y] = Float(0.5 + 0.35 * wave)
        }
    }
    return plane
}

/// Smooth luma and chroma planes, each with its own pattern.
func smoothImage(size: Size, chromaSize: Size) -> YCbCrImage {
    YCbCrImage(
        y: smoothPlane(size, phase: 0), cb: smoothPlane(chromaSize, phase: 1),
        cr: smoothPlane(chromaSize, phase: 2))
}
