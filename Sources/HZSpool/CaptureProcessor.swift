import Foundation
import HZImageIO
import HybridZoom

/// One capture's output image before encoding, what was decided on the way, and the images
/// that led to it (for `hzsr maps`).
public struct RenderedCapture: Sendable {
    public var image: YCbCrImage
    public var decision: String
    public var reason: String
    public var zoom: Double
    /// The part of W, in W's pixels, that the output shows.
    public var crop: Rect
    /// The decoded T frame, upright.
    public var tele: YCbCrImage
    /// `I_src`: W cropped to T's calibrated field of view at T's resolution (step 2).
    public var source: YCbCrImage
    /// T aligned to `I_src` (steps 3–6).
    public var alignment: Alignment
    /// W's EXIF block, to carry over to the output.
    public var wideEXIFPayload: [UInt8]?
    public var timings: StageTimings
}

/// The published image of one capture and what was decided on the way.
public struct ProcessedCapture: Sendable {
    public var jpeg: [UInt8]
    public var decision: String
    public var reason: String
    public var outputSize: Size
    public var zoom: Double
    /// The part of W, in W's pixels, that the output shows.
    public var crop: Rect
    public var alignment: AlignmentSummary
    public var timings: StageTimings
}

/// What the sidecar says of alignment: the coarse translation and its evidence, and T's colour
/// correction.
public struct AlignmentSummary: Codable, Sendable, Equatable {
    /// T's offset from `I_src` in T's pixels, [x, y].
    public var translation: [Double]
    public var matches: Int
    public var inliers: Int
    /// Spread of the matched offsets, px (parallax plus matching noise).
    public var spread: Double
    public var reliable: Bool
    /// T's luma gain and offset that matched W's (matched = value · gain + offset).
    public var lumaGain: Double
    public var lumaOffset: Double

    init(_ alignment: Alignment) {
        let coarse = alignment.coarse, colour = alignment.colour
        translation = [coarse.translation.x, coarse.translation.y]
        (matches, inliers, spread, reliable) = (coarse.matches, coarse.inliers, coarse.spread.isFinite ? coarse.spread : -1, coarse.isReliable)
        lumaGain = Double(colour.gain[0])
        lumaOffset = Double(colour.sourceMean[0] - colour.referenceMean[0] * colour.gain[0])
    }
}

/// Which of the two inputs a problem is in, so the caller can name the file.
public struct InputError: Error, CustomStringConvertible {
    public let role: Role
    public let underlying: any Error
    public var description: String { "\(underlying)" }
}

/// One capture, from the bytes of its W and T JPEGs to the bytes of the published JPEG: the code
/// path that the daemon, `hzsr fuse` and `hzsr bench` share.
///
/// The W digital zoom (pipeline step 2) is the fallback that every later stage is measured
/// against and what a capture publishes when it is not fused.
public struct CaptureProcessor: Sendable {
    public var rig: RigCalibration
    public var output: DaemonConfig.Output
    public var maxPixels: Int
    /// Step 7; nil publishes the W digital zoom.
    public var fusion: (any Fusion)?

    public init(rig: RigCalibration, output: DaemonConfig.Output, maxPixels: Int, fusion: (any Fusion)?) {
        self.rig = rig
        self.output = output
        self.maxPixels = maxPixels
        self.fusion = fusion
    }

    public init(config: DaemonConfig) {
        self.init(rig: config.rig, output: config.output, maxPixels: config.intake.maxPixels, fusion: config.fusionStage)
    }

    /// Decodes, runs the pipeline and encodes: what the daemon publishes.
    public func process(wide wideBytes: [UInt8], tele teleBytes: [UInt8]) throws -> ProcessedCapture {
        var rendered = try render(wide: wideBytes, tele: teleBytes)
        var clock = StageClock()
        let exif = rendered.wideEXIFPayload.flatMap { try? resettingOrientation(inEXIFPayload: $0) }
        let jpeg = try encodeJPEG(rendered.image, quality: output.jpegQuality, exifPayload: exif)
        clock.lap("encode")
        rendered.timings.record("encode", clock.timings["encode"])
        return ProcessedCapture(jpeg: jpeg, decision: rendered.decision, reason: rendered.reason,
                                outputSize: rendered.image.size, zoom: rendered.zoom, crop: rendered.crop,
                                alignment: AlignmentSummary(rendered.alignment), timings: rendered.timings)
    }

    /// Decodes and runs the pipeline, stopping short of encoding: what `hzsr eval` scores.
    public func render(wide wideBytes: [UInt8], tele teleBytes: [UInt8]) throws -> RenderedCapture {
        var clock = StageClock()
        let (wide, tele) = try decodeBoth(wideBytes, teleBytes)
        clock.lap("decode")

        let teleView = DigitalZoom.cropRect(wide: wide.image.size, calibration: rig, zoom: rig.zoomRatio, outputSize: tele.image.size)
        let source = DigitalZoom.render(wide.image, crop: teleView, to: tele.image.size)
        clock.lap("source")

        let alignment = Alignment.align(source: source, reference: tele.image)
        clock.lap("align")

        let size = outputSize(tele: tele.image.size)
        let crop = DigitalZoom.cropRect(wide: wide.image.size, calibration: rig, zoom: outputZoom, outputSize: size)
        let onSourceGrid = crop == teleView && size == source.size
        var image = onSourceGrid ? source : DigitalZoom.render(wide.image, crop: crop, to: size)
        clock.lap("zoom")

        var (decision, reason) = ("skipped", "")
        if let fusion {
            if !alignment.coarse.isReliable {
                reason = "alignment failed"
            } else if !onSourceGrid {
                reason = "output zoom or size differs from T's"
            } else {
                image.y = try fusion.fuse(FusionInputs(source: source.y, alignment: alignment))
                image.y.clampToUnitRange()
                decision = "fused"
                clock.lap("fuse")
            }
        } else {
            reason = "fusion off"
        }

        var timings = clock.timings
        timings.append(alignment.timings, prefix: "align")
        return RenderedCapture(image: image, decision: decision, reason: reason,
                               zoom: outputZoom, crop: crop, tele: tele.image, source: source, alignment: alignment,
                               wideEXIFPayload: wide.exifPayload, timings: timings)
    }

    /// Both frames decode on their own cores: decoding is most of the work of this path.
    private func decodeBoth(_ wideBytes: [UInt8], _ teleBytes: [UInt8]) throws -> (DecodedJPEG, DecodedJPEG) {
        let limit = maxPixels
        let decoded = try [(Role.wide, wideBytes), (Role.tele, teleBytes)].concurrentMap { role, bytes in
            do { return try decodeJPEG(bytes, maxPixels: limit) } catch { throw InputError(role: role, underlying: error) }
        }
        return (decoded[0], decoded[1])
    }

    private var outputZoom: Double {
        switch output.zoom {
        case .tele: rig.zoomRatio
        case .ratio(let ratio): ratio
        }
    }

    private func outputSize(tele: Size) -> Size {
        switch output.size {
        case .tele: tele
        case .fixed(let size): size
        }
    }
}

func milliseconds(since start: ContinuousClock.Instant, _ clock: ContinuousClock) -> Double {
    let elapsed = clock.now - start
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}
