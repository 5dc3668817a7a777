import Foundation
import HZImageIO
import HybridZoom
import Synchronization

/// Milliseconds spent in each stage of one capture.
public struct StageTimings: Codable, Sendable, Equatable {
    public var decode: Double = 0
    public var zoom: Double = 0
    public var encode: Double = 0
    public var total: Double = 0
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

    public func process(wide wideBytes: [UInt8], tele teleBytes: [UInt8]) throws -> ProcessedCapture {
        let clock = ContinuousClock()
        var timings = StageTimings()
        let start = clock.now

        let (wide, tele) = try decodeBoth(wideBytes, teleBytes)
        timings.decode = milliseconds(since: start, clock)

        let zoomStart = clock.now
        let size = outputSize(tele: tele.image.size)
        let zoom = outputZoom
        let crop = DigitalZoom.cropRect(wide: wide.image.size, calibration: rig, zoom: zoom, outputSize: size)
        let zoomed = DigitalZoom.render(wide.image, crop: crop, to: size)
        timings.zoom = milliseconds(since: zoomStart, clock)

        let encodeStart = clock.now
        let exif = wide.exifPayload.flatMap { try? resettingOrientation(inEXIFPayload: $0) }
        let jpeg = try encodeJPEG(zoomed, quality: output.jpegQuality, exifPayload: exif)
        timings.encode = milliseconds(since: encodeStart, clock)
        timings.total = milliseconds(since: start, clock)

        return ProcessedCapture(jpeg: jpeg, decision: "skipped", reason: "no fusion stage in this build",
                                outputSize: size, zoom: zoom, crop: crop, timings: timings)
    }

    /// Both frames decode on their own cores: decoding is most of the work of this path.
    private func decodeBoth(_ wideBytes: [UInt8], _ teleBytes: [UInt8]) throws -> (DecodedJPEG, DecodedJPEG) {
        let results = Mutex<[Result<DecodedJPEG, InputError>?]>([nil, nil])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let role: Role = index == 0 ? .wide : .tele
            let bytes = index == 0 ? wideBytes : teleBytes
            let result = Result { try decodeJPEG(bytes, maxPixels: maxPixels) }
                .mapError { InputError(role: role, underlying: $0) }
            results.withLock { $0[index] = result }
        }
        let decoded = results.withLock { $0 }
        return (try decoded[0]!.get(), try decoded[1]!.get())
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
