import HZHarness
import HybridZoom

@testable import HybridZoom

/// Small deterministic planes for the blending and gate tests.
enum SyntheticPlanes {
    /// A photo-like texture: white noise blurred by `correlation` px, scaled to deviation
    /// `contrast` around `mean`. Not periodic, so a flow finds one answer.
    static func texture(_ size: Size, seed: UInt64, correlation: Double = 1.5, contrast: Float = 0.12, mean: Float = 0.5) -> Plane {
        var random = SeededRandom(seed: seed)
        let noise = Plane(width: size.width, height: size.height, pixels: (0..<size.pixelCount).map { _ in random.gaussian() })
        var smooth = gaussianBlur(noise, sigma: correlation)
        let average = smooth.pixels.reduce(0, +) / Float(size.pixelCount)
        let deviation = (smooth.pixels.map { ($0 - average) * ($0 - average) }.reduce(0, +) / Float(size.pixelCount)).squareRoot()
        for i in smooth.pixels.indices { smooth.pixels[i] = mean + (smooth.pixels[i] - average) * contrast / deviation }
        return smooth
    }

    /// `plane` plus Gaussian noise of `sigma`.
    static func noisy(_ plane: Plane, sigma: Float, seed: UInt64) -> Plane {
        var random = SeededRandom(seed: seed), result = plane
        for i in result.pixels.indices { result.pixels[i] += sigma * random.gaussian() }
        return result
    }

    /// `tele` as W sees it at r = 1: through W's softer lens, as the rejection map expects.
    static func wideView(_ tele: Plane) -> Plane { gaussianBlur(tele, sigma: BlendTuning.wideLensBlur) }

    /// Inputs in which T matches W everywhere (at r = 1, W is T through W's lens): every map
    /// should trust it. The maps' grid is the frame itself unless `mapSize` says otherwise.
    static func cleanInputs(_ size: Size, mapSize: Size? = nil) -> BlendInputs {
        let grid = mapSize ?? size, texture = texture(size, seed: 1)
        let zero = Plane(width: grid.width, height: grid.height)
        return BlendInputs(
            source: wideView(texture), warpedReference: texture, forwardFlow: FlowField(size: grid, u: 2, v: -1),
            flowUncertainty: zero, occlusion: zero, outsideReference: zero, wideNoise: 0.002, zoomRatio: 1)
    }

    /// The pixels of `plane` inside `columns` × `rows`.
    static func values(_ plane: Plane, columns: Range<Int>, rows: Range<Int>) -> [Float] {
        rows.flatMap { y in columns.map { x in plane[x, y] } }
    }
}
