import Foundation

/// Step 8, alignment rejection: `M_reject = 1 − exp(−‖P_δ‖² / (σ²_src + ε₀))`, where the flow
/// is wrong in a way the other maps miss (the flow is confident, but T's detail does not land
/// on W's).
///
/// It compares Y_src with Ỹ_ref as W would have seen it. I_src is W enlarged r times, so
/// nothing in it is finer than W's own pixels: both planes are shrunk to W's resolution (the
/// resampler low-passes as it shrinks, as W's pixels integrate light), and Ỹ_ref is blurred by W's
/// lens on top. `‖P_δ‖²` is the mean square of their difference after subtracting its local mean,
/// over a Gaussian window (a smooth version of a mean-subtracted patch): a difference that is
/// constant over the window (an exposure or colour residue) does not count, a misplaced edge
/// does. Shrinking also averages the noise: σ_src is W's noise at the working resolution.
public struct RejectionMap: BlendMap {
    public static let name = "rejection"

    /// The widest working plane, pixels.
    public var maxWidth: Int
    /// W's lens blur beyond its pixels, σ in W pixels.
    public var lensBlur: Double
    /// σ of the patch window, working pixels.
    public var window: Double
    /// ε₀, luma².
    public var tolerance: Float

    public init(
        maxWidth: Int = BlendTuning.rejectionMaxWidth, lensBlur: Double = BlendTuning.wideLensBlur,
        window: Double = BlendTuning.rejectionWindow, tolerance: Float = BlendTuning.rejectionTolerance
    ) {
        precondition(maxWidth > 0 && window > 0 && tolerance > 0, "the rejection map's settings must be positive")
        self.maxWidth = maxWidth
        self.lensBlur = lensBlur
        self.window = window
        self.tolerance = tolerance
    }

    public func map(_ inputs: BlendInputs) -> Plane {
        let nativeWidth = Double(inputs.source.size.width) / inputs.zoomRatio
        let working = workingSize(inputs.source.size, nativeWidth: nativeWidth)
        // Working pixels per W pixel (1 unless capped by maxWidth).
        let perWidePixel = Double(working.width) / nativeWidth
        let source = shrink(inputs.source, to: working)
        let reference = gaussianBlur(shrink(inputs.warpedReference, to: working), sigma: lensBlur * perWidePixel)
        let noise = inputs.wideNoise * Float(min(perWidePixel, 1))
        let rejection = rejectionMap(differenceVariance(reference, source), noiseVariance: noise * noise)
        return rejection.size == inputs.mapSize ? rejection : clamped(resample(rejection, from: rejection.size.bounds, to: inputs.mapSize))
    }

    /// W's resolution (I_src shrunk by r), no wider than `maxWidth`, with I_src's aspect ratio.
    func workingSize(_ size: Size, nativeWidth: Double) -> Size {
        let width = max(1, min(Int(nativeWidth.rounded()), maxWidth, size.width))
        return Size(width: width, height: max(1, Int((Double(size.height) * Double(width) / Double(size.width)).rounded())))
    }

    private func shrink<P: ReadablePlane>(_ plane: P, to size: Size) -> Plane {
        plane.size == size ? plane.floats : resample(plane, from: plane.size.bounds, to: size)
    }

    /// ‖P_δ‖² per pixel: the local variance of `a − b` over the window, G(δ²) − G(δ)².
    private func differenceVariance(_ a: Plane, _ b: Plane) -> Plane {
        var difference = a, squared = a
        for i in difference.pixels.indices {
            let d = a.pixels[i] - b.pixels[i]
            difference.pixels[i] = d
            squared.pixels[i] = d * d
        }
        let mean = gaussianBlur(difference, sigma: window), meanSquare = gaussianBlur(squared, sigma: window)
        for i in squared.pixels.indices {
            squared.pixels[i] = max(meanSquare.pixels[i] - mean.pixels[i] * mean.pixels[i], 0)
        }
        return squared
    }

    private func rejectionMap(_ variance: Plane, noiseVariance: Float) -> Plane {
        var result = variance
        let scale = -1 / (noiseVariance + tolerance)
        result.pixels.withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] = 1 - exp(values[i] * scale) }
        }
        return result
    }
}

/// Values limited to [0, 1]: a map after the cubic resampler, which may overshoot a little.
func clamped(_ plane: Plane) -> Plane {
    var result = plane
    result.pixels.withUnsafeMutableBufferPointer { values in
        for i in values.indices { values[i] = values[i].clamped(to: 0...1) }
    }
    return result
}
