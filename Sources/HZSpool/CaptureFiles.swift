import Foundation
import HZImageIO
import HybridZoom

/// What is published of one capture: its JPEGs and what was decided on the way.
public struct EncodedCapture: Sendable {
    /// One per configured zoom, in the config's order.
    public var outputs: [EncodedOutput]
    /// The maps when `output.maps` is on and the capture was aligned; else empty.
    public var maps: [EncodedMap]
    public var decision: CaptureDecision
    public var reason: String
    public var gate: GateMeasurements
    /// Mean blend weight over T's view: how much of it took T's detail (0 when not fused).
    public var coverage: Double
    public var alignment: AlignmentSummary?
    public var timings: StageTimings
    /// What the decoder noticed in either input without refusing it.
    public var warnings: [InputWarning]
}

/// One published image of a capture, at one of the configured zooms.
public struct EncodedOutput: Sendable {
    public var jpeg: [UInt8]
    public var size: Size
    public var zoom: Double
    /// The part of W, in W's pixels, that the output shows.
    public var crop: Rect
}

/// One of a capture's maps as a published JPEG.
public struct EncodedMap: Sendable {
    /// Its file name in `<pair>.maps/`: `flow.jpg`, `map-defocus.jpg`, …
    public var file: String
    public var jpeg: [UInt8]
}

/// A problem the decoder noticed in one input without refusing it.
public struct InputWarning: Sendable, Equatable {
    public var role: Role
    public var message: String
}

/// Which of the two inputs a problem is in, so the caller can name the file.
public struct InputError: Error, CustomStringConvertible {
    public let role: Role
    public let underlying: any Error
    public var description: String { "\(underlying)" }
}

/// What processing a pair takes at its peak, from its frames' sizes, fitted a little above the
/// daemon's resident memory at its peak (`hzsr bench --daemon`, AMD EPYC, 2 cores, 2026-12-05):
/// 322–344 MB for a pair of 12 MP frames (estimated 362), 951–964 MB for one of 101.8 MP, whose
/// `Y_src` is made as it is read (1073).
public enum MemoryEstimate {
    public static let fixed = 200 << 20
    public static let perPixel = 7.0
    /// Per pixel of W and T when the network fuses a `Y_src` made as it is read (`SourceLuma`,
    /// `DaemonConfig.makesSourceAsRead`), which W's 8-bit luma stands in for to the end.
    public static let perPixelMadeAsRead = 4.5
    /// An output other than the one on `I_src`'s grid: its float planes (luma and 4:2:0 chroma),
    /// and the JPEG.
    public static let perOutputPixel = 8.0
    /// The network's workers the fit was measured with (a 2-core machine runs two).
    public static let measuredWorkers = 2

    /// W and T, and `outputs`: the sizes of the outputs made beside `I_src`'s grid, for which
    /// W's 8-bit luma is kept to the end too; `sourceMadeAsRead` as the config says for them;
    /// `network`: how many workers the network runs and what each holds
    /// (`FusionNetwork.workerMemory`), nil without it. Each worker beyond the fit's two adds its
    /// share; fewer never lower the estimate.
    public static func bytes(
        wide: Size, tele: Size, outputs: [Size] = [], sourceMadeAsRead: Bool = false, network: (workers: Int, bytesEach: Int)?
    ) -> Int {
        let pixels = Double(wide.pixelCount + tele.pixelCount)
        let extraWorkers = network.map { max($0.workers - measuredWorkers, 0) * $0.bytesEach } ?? 0
        if sourceMadeAsRead { return fixed + Int(perPixelMadeAsRead * pixels) + bytes(outputs: outputs) + extraWorkers }
        let keptLuma = outputs.isEmpty ? 0 : wide.pixelCount
        return fixed + Int(perPixel * pixels) + keptLuma + bytes(outputs: outputs) + extraWorkers
    }

    public static func bytes(outputs: [Size]) -> Int { Int(perOutputPixel * Double(outputs.map(\.pixelCount).reduce(0, +))) }
}

extension DaemonConfig {
    /// The outputs a pair with a T of `tele` makes beside `I_src`'s grid (which the primary
    /// output is, at the tele zoom and T's size, on a rig not turned).
    public func outputsBesideTheSource(tele: Size) -> [Size] {
        output.zooms.compactMap { zoom in
            switch output.size {
            case .fixed(let size): size
            case .tele: zoom.value(for: rig) == rig.zoomRatio && rig.rotation == 0 ? nil : tele
            }
        }
    }

    /// Whether a pair of these frames takes the pipeline's path whose peak `perPixelMadeAsRead`
    /// was fitted to: `SourceLuma` makes `Y_src` as it is read at `largestHeld`, the network
    /// fuses it, and no output lies beside `I_src`'s grid. Classical fusion makes a whole plane
    /// from `Y_src` (1038 MB measured at 101.8 MP, too close to that fit to share it), and such
    /// an output a plane of the change and its own (1944 MB with one at zoom 1): both keep the
    /// estimate for a held `Y_src`.
    public func makesSourceAsRead(wide: Size, tele: Size, largestHeld: Int) -> Bool {
        let view = DigitalZoom.teleView(wide: wide, calibration: rig, teleSize: tele)
        return fusion.method != .classical && outputsBesideTheSource(tele: tele).isEmpty
            && SourceLuma.isMadeAsRead(wide: wide, view: view, size: tele, largestHeld: largestHeld)
    }
}

/// A pair that would take more memory than `intake.memory_budget_mb` allows.
public struct OverMemoryBudget: Error, CustomStringConvertible {
    public let wide: Size, tele: Size, outputs: [Size], needed: Int, budget: Int
    public var description: String {
        let images = outputs.isEmpty ? "" : " with \(outputs.count) outputs of \(outputs.map(\.description).joined(separator: ", "))"
        return "W \(wide) and T \(tele)\(images) would take about \(needed >> 20) MB, above intake.memory_budget_mb (\(budget >> 20))"
    }
}

/// The files around the pipeline: a capture's two JPEGs decoded into frames, and its images
/// encoded for publishing. The daemon, `hzsr fuse` and `hzsr bench` publish a capture with
/// `process`; the harness's commands decode with `decode` and run the pipeline themselves.
public enum CaptureFiles {
    /// W and T decoded on a core each (decoding is most of a small capture's work), upright.
    /// T's chroma only when `teleChroma` (to show T): the pipeline reads its luma alone.
    /// A problem is an `InputError` naming its input.
    public static func decode(
        wide: [UInt8], tele: [UInt8], intake: DaemonConfig.Intake, teleChroma: Bool = false
    ) throws
        -> (wide: DecodedJPEG, tele: DecodedJPEG)
    {
        let (limit, usingCorruptData) = (intake.maxPixels, intake.corruptFrames == .use)
        let decoded = try [(Role.wide, wide), (Role.tele, tele)].concurrentMap { role, bytes in
            do {
                return try decodeJPEG(
                    bytes, maxPixels: limit, usingCorruptData: usingCorruptData, chroma: role == .wide || teleChroma)
            } catch {
                throw InputError(role: role, underlying: error)
            }
        }
        return (decoded[0], decoded[1])
    }

    /// Decodes and runs the pipeline, stopping short of encoding: what the harness scores and draws.
    public static func process(
        wide: [UInt8], tele: [UInt8], pipeline: CapturePipeline, intake: DaemonConfig.Intake
    ) throws
        -> ProcessedCapture
    {
        let (wide, tele) = try decode(wide: wide, tele: tele, intake: intake)
        return try pipeline.process(wide: CaptureFrame(consume wide), tele: CaptureFrame(consume tele))
    }

    /// Decodes, runs the pipeline and encodes: what the daemon publishes.
    public static func process(
        wide: [UInt8], tele: [UInt8], pipeline: CapturePipeline, config: DaemonConfig
    ) throws
        -> EncodedCapture
    {
        var clock = StageClock()
        let (wide, tele) = try decode(wide: wide, tele: tele, intake: config.intake)
        clock.lap(.decode)
        var warnings = [(Role.wide, wide), (Role.tele, tele)].flatMap { role, frame in
            frame.warnings.map { InputWarning(role: role, message: $0) }
        }
        let exif: [UInt8]? = wide.exifPayload.flatMap { payload in
            do {
                return try derivedEXIFPayload(from: payload)
            } catch {
                warnings.append(InputWarning(role: .wide, message: "its EXIF is not carried over to the outputs: \(error)"))
                return nil
            }
        }
        // The frames' planes are the pipeline's alone, so it can let them go before fusion, and
        // nothing here reads its intermediates (`Ỹ_ref`, `I_src`), so it need not keep them.
        let processed = try pipeline.process(
            wide: CaptureFrame(consume wide), tele: CaptureFrame(consume tele), keepingIntermediates: false)
        var timings = clock.timings
        timings.append(contentsOf: processed.timings)

        clock = StageClock()
        let quality = config.output.jpegQuality
        var maps: [EncodedMap] = []
        if config.output.maps {
            maps = try processed.mapImages.map { map in
                EncodedMap(file: "\(map.name.fileStem).jpg", jpeg: try encodeJPEG(map.image, quality: quality, exifPayload: nil))
            }
            clock.lap(.maps)
        }
        let (decision, reason, gate) = (processed.decision, processed.reason, processed.gate.measurements)
        let coverage = processed.blend?.coverage ?? 0, alignment = processed.alignment.map(AlignmentSummary.init)
        // Only the outputs are encoded: what else the pipeline made (`Y_src` when no output shows
        // it: 48 MB at 12 MP) goes first.
        let images = processed.outputs
        _ = consume processed
        // Each zoom's encode on its own core, as decoding does.
        let outputs = try images.concurrentMap { zoomed in
            EncodedOutput(
                jpeg: try encodeJPEG(zoomed.image, quality: quality, exifPayload: exif),
                size: zoomed.image.size, zoom: zoomed.zoom, crop: zoomed.crop)
        }
        clock.lap(.encode)
        timings.append(contentsOf: clock.timings)
        return EncodedCapture(
            outputs: outputs, maps: maps, decision: decision, reason: reason, gate: gate, coverage: coverage,
            alignment: alignment, timings: timings, warnings: warnings)
    }
}

/// What the sidecar says of alignment: the coarse translation and its evidence, and T's colour
/// correction.
public struct AlignmentSummary: Codable, Sendable, Equatable {
    /// `similarity` or `homography`: the coarse model of T's view against `I_src`.
    public var model: CoarseAlignment.Model
    /// T's offset from `I_src` at the frame's centre in T's pixels, [x, y].
    public var translation: [Double]
    /// T's scale and rotation (degrees) against the calibration, at the frame's centre.
    public var scale: Double
    public var rotation: Double
    public var matches: Int
    public var inliers: Int
    /// Spread of the inliers around the model, px (parallax plus matching noise).
    public var spread: Double
    public var reliable: Bool
    /// Where corner matches were too few and the model was fitted to the images directly: how
    /// well T's detail correlates with `I_src`'s through it (−1…1), the evidence it was judged on.
    public var correlation: Double?
    /// Why the coarse alignment was not trusted, when it was not.
    public var problem: String?
    /// T's luma gain and offset that matched W's (matched = value · gain + offset).
    public var lumaGain: Double
    public var lumaOffset: Double

    init(_ alignment: Alignment) {
        let coarse = alignment.coarse, colour = alignment.colour
        (model, translation, scale, rotation) = (coarse.model, [coarse.translation.x, coarse.translation.y], coarse.scale, coarse.rotation)
        (matches, inliers, spread, reliable) = (coarse.matches, coarse.inliers, coarse.spread.isFinite ? coarse.spread : -1, coarse.isReliable)
        (problem, correlation) = (coarse.problem, coarse.detailCorrelation)
        (lumaGain, lumaOffset) = (Double(colour.gain), Double(colour.offset))
    }
}
