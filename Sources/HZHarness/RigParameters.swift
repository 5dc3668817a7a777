import Foundation
import HybridZoom

/// Everything that differs between two simulated captures of the same photo.
public struct RigParameters: Codable, Sendable, Equatable {
    public var zoomRatio: Double
    /// Pixel size of both cameras' frames.
    public var frameWidth: Int
    public var frameHeight: Int
    /// T's global misalignment against the calibrated field of view, in frame pixels.
    public var teleOffset: [Double]
    /// T's turn (degrees) and magnification against the calibration, as the coarse alignment
    /// measures them between `I_src` and T.
    public var teleRotation: Double
    public var teleScale: Double
    /// Disparity in frame pixels between the nearest and the farthest depth of the scene's
    /// background.
    public var parallax: Double
    /// How T's view of a nearer point moves per pixel of disparity: along the baseline.
    public var parallaxDirection: [Double]
    /// T is out of focus away from the focus depth (depth-of-field mismatch), in proportion to
    /// the disparity from it; false models a stopped-down T (tests use it to isolate effects).
    public var defocus: Bool
    /// Objects close to T that W does not see.
    public var occluders: Int
    /// Objects close to the rig that both cameras see, far in front of the background (a post, a
    /// window frame, a hand): sharp depth steps, with what each camera sees behind them.
    public var nearObjects: Int
    /// Seconds between W's and T's exposures, and the objects that move meanwhile.
    public var timeGap: Double
    public var movers: Int
    /// Each lens's radial distortion k₁ (radius normalised to the half-diagonal; barrel < 0).
    public var wideDistortion: Double
    public var teleDistortion: Double
    /// Each lens's fall-off: the gain is 1 − v·ρ² at the normalised radius ρ.
    public var wideVignetting: Double
    public var teleVignetting: Double
    /// T's different colour response: luma gain and offset, Cb and Cr shifts.
    public var teleGain: Double
    public var teleBias: Double
    public var teleChromaShift: [Double]
    /// W's optics blur (σ, in W pixels) on top of the downsampling.
    public var wideBlur: Double
    /// Each camera's processing after the sensor: a denoising blur (σ, pixels) then an unsharp
    /// mask (its amount), then JPEG at its quality.
    public var wideDenoising: Double
    public var teleDenoising: Double
    public var wideSharpening: Double
    public var teleSharpening: Double
    public var wideJPEGQuality: Int
    public var teleJPEGQuality: Int
    public var exposure: Exposure
    public var seed: UInt64

    public var frameSize: Size { Size(width: frameWidth, height: frameHeight) }

    enum CodingKeys: String, CodingKey {
        case zoomRatio, frameWidth, frameHeight, teleOffset, teleRotation, teleScale, parallax, parallaxDirection, defocus
        case occluders, nearObjects, timeGap, movers, wideDistortion, teleDistortion, wideVignetting, teleVignetting
        case teleGain, teleBias, teleChromaShift, wideBlur, wideDenoising, teleDenoising, wideSharpening, teleSharpening
        case wideJPEGQuality = "wideJpegQuality", teleJPEGQuality = "teleJpegQuality", exposure, seed
    }

    /// Parameters drawn from `seed` within `ranges`; the sizes in `ranges` are at 12 MP and scale
    /// with the frame's width.
    public static func draw(
        seed: UInt64, frameSize: Size, zoomRatio: Double, exposure: Exposure, ranges: SimulationRanges = .tethered
    ) -> RigParameters {
        var random = SeededRandom(seed: seed)
        let scale = Double(frameSize.width) / 4032
        func uniform(_ range: ClosedRange<Double>) -> Double {
            range.lowerBound + Double(random.unit()) * (range.upperBound - range.lowerBound)
        }
        func symmetric(_ limit: Double) -> Double { uniform(-limit...limit) }
        func count(_ chance: Double, most: Int) -> Int { random.unit() < Float(chance) ? 1 + Int(random.unit() * Float(most)) : 0 }
        // The classic draws first, in their original order, so a classic set stays the same set.
        var parameters = RigParameters(
            zoomRatio: zoomRatio, frameWidth: frameSize.width, frameHeight: frameSize.height,
            teleOffset: [symmetric(ranges.offset) * scale, symmetric(ranges.offset) * scale], teleRotation: 0, teleScale: 1,
            parallax: uniform(0...ranges.parallax) * scale, parallaxDirection: [1, 0.2],
            defocus: true, occluders: count(0.33, most: 2), nearObjects: 0, timeGap: 0, movers: 0,
            wideDistortion: 0, teleDistortion: 0, wideVignetting: 0, teleVignetting: 0,
            teleGain: uniform(0.92...1.08), teleBias: uniform(-0.03...0.03),
            teleChromaShift: [uniform(-0.02...0.02), uniform(-0.02...0.02)],
            wideBlur: uniform(0.4...0.8), wideDenoising: 0, teleDenoising: 0, wideSharpening: 0, teleSharpening: 0,
            wideJPEGQuality: 92, teleJPEGQuality: 92, exposure: exposure, seed: seed)
        guard ranges != .classic else { return parameters }
        parameters.teleRotation = symmetric(ranges.rotation)
        parameters.teleScale = 1 + symmetric(ranges.scale)
        let angle = uniform(0...(2 * .pi))
        parameters.parallaxDirection = [cos(angle), sin(angle)]
        parameters.nearObjects = count(ranges.nearObjectChance, most: 2)
        parameters.timeGap = uniform(ranges.timeGap)
        parameters.movers = count(ranges.moverChance, most: 2)
        (parameters.wideDistortion, parameters.teleDistortion) = (uniform(ranges.wideDistortion), uniform(ranges.teleDistortion))
        (parameters.wideVignetting, parameters.teleVignetting) = (uniform(ranges.vignetting), uniform(ranges.vignetting))
        parameters.teleGain = uniform(ranges.teleGain)
        parameters.wideDenoising = uniform(ranges.denoising)
        parameters.teleDenoising = uniform(ranges.denoising)
        parameters.wideSharpening = uniform(ranges.sharpening)
        parameters.teleSharpening = uniform(ranges.sharpening)
        parameters.wideJPEGQuality = Int(uniform(ranges.jpegQuality).rounded())
        parameters.teleJPEGQuality = Int(uniform(ranges.jpegQuality).rounded())
        return parameters
    }
}

/// The ranges simulated captures are drawn from. `classic` is the first simulator (offset,
/// parallax along a fixed baseline, defocus, occluders, T's colour); `tethered` adds what a
/// real tethered rig adds; `handheld` adds seconds between the shots.
public struct SimulationRanges: Sendable, Equatable {
    /// T's offset (±, pixels) and the background's parallax (pixels), at 12 MP.
    public var offset = 150.0
    public var parallax = 24.0
    /// T's turn (±, degrees) and magnification (±, a fraction) against the calibration.
    public var rotation = 1.0
    public var scale = 0.02
    /// The chance of near objects (one or two) and of movers (one or two).
    public var nearObjectChance = 0.35
    public var moverChance = 0.35
    /// Seconds between the exposures; movers cross a frame in 2 to 10 seconds.
    public var timeGap = 0.0...0.1
    public var wideDistortion = -0.06...0.02
    public var teleDistortion = -0.015...0.015
    public var vignetting = 0.0...0.35
    public var teleGain = 0.85...1.15
    public var denoising = 0.0...0.8
    public var sharpening = 0.0...0.8
    public var jpegQuality = 85.0...95.0

    public static let tethered = SimulationRanges()

    public static let handheld: SimulationRanges = {
        var ranges = SimulationRanges()
        ranges.timeGap = 0.3...2
        return ranges
    }()

    public static let classic: SimulationRanges = {
        var ranges = SimulationRanges()
        (ranges.rotation, ranges.scale, ranges.nearObjectChance, ranges.moverChance) = (0, 0, 0, 0)
        (ranges.timeGap, ranges.wideDistortion, ranges.teleDistortion, ranges.vignetting) = (0...0, 0...0, 0...0, 0...0)
        (ranges.teleGain, ranges.denoising, ranges.sharpening, ranges.jpegQuality) = (0.92...1.08, 0...0, 0...0, 92...92)
        return ranges
    }()

    public init() {}
}
