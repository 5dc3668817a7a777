import Foundation
import HZImageIO
import HybridZoom

/// Milliseconds spent in each stage of one capture.
public struct StageTimings: Codable, Sendable, Equatable {
    public var decode: Double = 0
    public var zoom: Double = 0
    public var encode: Double = 0
    public var total: Double = 0
}

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
    public var timings: StageTimings
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
/// Today the output is the W digital zoom (pipeline step 2), the fallback that every later stage
/// is measured against; alignment, fusion and blending slot in between decode and encode.
public struct CaptureProcessor: Sendable {
    public var rig: RigCalibration
    public var output: DaemonConfig.Output
    public var maxPixels: Int

    public init(rig: RigCalibration, output: DaemonConfig.Output, maxPixels: Int) {
        self.rig = rig
        self.output = output
        self.maxPixels = maxPixels
    }

    public init(config: DaemonConfig) {
        self.init(rig: config.rig, output: config.output, maxPixels: config.intake.maxPixels)
    }

    /// Decodes, runs the pipeline and encodes: what the daemon publishes.
    public func process(wide wideBytes: [UInt8], tele teleBytes: [UInt8]) throws -> ProcessedCapture {
        let clock = ContinuousClock()
        let rendered = try render(wide: wideBytes, tele: teleBytes)
        let encodeStart = clock.now
        let exif = rendered.wideEXIFPayload.flatMap { try? resettingOrientation(inEXIFPayload: $0) }
        let jpeg = try encodeJPEG(rendered.image, quality: output.jpegQuality, exifPayload: exif)
        var timings = rendered.timings
        timings.encode = milliseconds(since: encodeStart, clock)
        timings.total += timings.encode
        return ProcessedCapture(jpeg: jpeg, decision: rendered.decision, reason: rendered.reason,
                                outputSize: rendered.image.size, zoom: rendered.zoom, crop: rendered.crop, timings: timings)
    }

    /// Decodes and runs the pipeline, stopping short of encoding: what `hzsr eval` scores.
    public func render(wide wideBytes: [UInt8], tele teleBytes: [UInt8]) throws -> RenderedCapture {
        let clock = ContinuousClock()
        var timings = StageTimings()
        let start = clock.now

        let (wide, tele) = try decodeBoth(wideBytes, teleBytes)
        timings.decode = milliseconds(since: start, clock)

        let zoomStart = clock.now
        let size = outputSize(tele: tele.image.size)
        let crop = DigitalZoom.cropRect(wide: wide.image.size, calibration: rig, zoom: outputZoom, outputSize: size)
        let zoomed = DigitalZoom.render(wide.image, crop: crop, to: size)
        timings.zoom = milliseconds(since: zoomStart, clock)
        timings.total = milliseconds(since: start, clock)

        return RenderedCapture(image: zoomed, decision: "skipped", reason: "no fusion stage in this build",
                               zoom: outputZoom, crop: crop, tele: tele.image, wideEXIFPayload: wide.exifPayload,
                               timings: timings)
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
