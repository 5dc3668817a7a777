import Foundation
import HZImageIO
import HybridZoom

/// One output image of a capture, at one of the configured zooms.
public struct RenderedOutput: Sendable {
    public var image: YCbCrImage
    public var zoom: Double
    /// The part of W, in W's pixels, that the output shows.
    public var crop: Rect
}

/// One capture's output images before encoding, what was decided on the way, and the images
/// that led to them (for `hzsr maps` and `output.maps`).
public struct RenderedCapture: Sendable {
    /// One per configured zoom, in the config's order.
    public var outputs: [RenderedOutput]
    public var gate: GateDecision
    /// `fused`, or `skipped: <why>`.
    public var decision: String
    /// The decoded T frame, upright.
    public var tele: YCbCrImage
    /// `I_src`: W cropped to T's calibrated field of view at T's resolution (step 2).
    public var source: YCbCrImage
    /// T aligned to `I_src` (steps 3–6); nil when the gate skipped fusion before aligning.
    public var alignment: Alignment?
    /// When fused: the luma fusion and blending made on `I_src`'s grid (steps 7–9), and the blend.
    public var composed: Plane?
    public var blend: BlendWeights?
    /// W's EXIF block, to carry over to the output.
    public var wideEXIFPayload: [UInt8]?
    public var timings: StageTimings
    public var warnings: [InputWarning]

    public var fused: Bool { composed != nil }
    /// The output at the first configured zoom.
    public var primary: RenderedOutput { outputs[0] }
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

/// The published images of one capture and what was decided on the way.
public struct ProcessedCapture: Sendable {
    /// One per configured zoom, in the config's order.
    public var outputs: [EncodedOutput]
    /// `RenderedCapture.mapImages` when `output.maps` is on; else empty.
    public var maps: [EncodedMap]
    public var decision: String
    public var reason: String
    public var gate: GateMeasurements
    /// Mean blend weight over T's view: how much of it took T's detail (0 when not fused).
    public var coverage: Double
    public var alignment: AlignmentSummary?
    public var timings: StageTimings
    /// What the decoder noticed in either input without refusing it.
    public var warnings: [InputWarning]
}

/// A problem the decoder noticed in one input without refusing it.
public struct InputWarning: Sendable, Equatable {
    public var role: Role
    public var message: String
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

/// One capture, from the bytes of its W and T JPEGs to the bytes of the JPEGs it publishes (one
/// per output zoom, and the maps when asked for): the code path that the daemon, `hzsr fuse`
/// and `hzsr bench` share.
///
/// The W digital zoom (pipeline step 2) is what a capture publishes when the gate skips fusion,
/// and what every fused image is measured against.
public struct CaptureProcessor: Sendable {
    public var rig: RigCalibration
    public var output: DaemonConfig.Output
    public var maxPixels: Int
    public var corruptFrames: DaemonConfig.CorruptFrames
    /// Step 7; nil publishes the W digital zoom.
    public var fusion: (any Fusion)?
    public var gate: GateSettings
    public var blend: BlendConfig

    public init(config: DaemonConfig) {
        (rig, output, maxPixels, corruptFrames) = (config.rig, config.output, config.intake.maxPixels, config.intake.corruptFrames)
        (fusion, gate, blend) = (config.fusionStage, config.gate, config.blend)
    }

    /// Decodes, runs the pipeline and encodes: what the daemon publishes.
    public func process(wide wideBytes: [UInt8], tele teleBytes: [UInt8]) throws -> ProcessedCapture {
        var rendered = try render(wide: wideBytes, tele: teleBytes)
        var clock = StageClock()
        let exif = rendered.wideEXIFPayload.flatMap { try? resettingOrientation(inEXIFPayload: $0) }
        let quality = output.jpegQuality
        // Each zoom's encode on its own core, as decoding does.
        let outputs = try rendered.outputs.concurrentMap { zoomed in
            EncodedOutput(jpeg: try encodeJPEG(zoomed.image, quality: quality, exifPayload: exif),
                          size: zoomed.image.size, zoom: zoomed.zoom, crop: zoomed.crop)
        }
        clock.lap("encode")
        var maps: [EncodedMap] = []
        if output.maps {
            maps = try rendered.mapImages.map { map in
                EncodedMap(file: "\(map.name).jpg", jpeg: try encodeJPEG(map.image, quality: quality, exifPayload: nil))
            }
            clock.lap("maps")
        }
        for lap in clock.timings.laps { rendered.timings.record(lap.stage, lap.ms) }
        return ProcessedCapture(outputs: outputs, maps: maps, decision: rendered.decision, reason: rendered.gate.reason,
                                gate: rendered.gate.measurements, coverage: rendered.blend?.coverage ?? 0,
                                alignment: rendered.alignment.map(AlignmentSummary.init), timings: rendered.timings,
                                warnings: rendered.warnings)
    }

    /// Decodes and runs the pipeline, stopping short of encoding: what `hzsr eval` scores.
    public func render(wide wideBytes: [UInt8], tele teleBytes: [UInt8]) throws -> RenderedCapture {
        var clock = StageClock()
        let (wide, tele) = try decodeBoth(wideBytes, teleBytes)
        clock.lap("decode")

        let teleView = DigitalZoom.cropRect(wide: wide.image.size, calibration: rig, zoom: rig.zoomRatio, outputSize: tele.image.size)
        let source = DigitalZoom.render(wide.image, crop: teleView, to: tele.image.size)
        clock.lap("source")

        let measured = [wide, tele].concurrentMap { FrameMeasurement(luma: $0.image.y, exposure: exposure(of: $0.exif)) }
        var gate = Gate.decide(wide: measured[0], tele: measured[1], zoomRatio: rig.zoomRatio, settings: self.gate)
        clock.lap("gate")

        var alignment: Alignment?
        if gate.fuses, fusion != nil {
            let aligned = Alignment.align(source: source, reference: tele.image)
            clock.lap("align")
            gate = Gate.decide(wide: measured[0], tele: measured[1], zoomRatio: rig.zoomRatio,
                               alignment: AlignmentCheck(aligned), settings: self.gate)
            alignment = aligned
        }

        var outputs = wideZooms(wide.image, source: source, teleView: teleView)
        clock.lap("zoom")

        // Fusion and blending run once, on `I_src`'s grid; every zoom takes their luma.
        var composed: Plane?, blend: BlendWeights?
        if gate.fuses, let fusion, let alignment {
            let fused = try fusion.fuse(FusionInputs(source: source.y, alignment: alignment))
            clock.lap("fuse")
            let (luma, weights) = self.blend(fused, source: source.y, alignment: alignment, tele: tele,
                                             wideNoise: gate.measurements.noiseWide)
            var change: Plane?  // made by the first zoom that needs it
            for index in outputs.indices {
                paste(luma, source: source.y, change: &change, teleView: teleView, crop: outputs[index].crop,
                      into: &outputs[index].image)
            }
            clock.lap("blend")
            (composed, blend) = (luma, weights)
        }

        var timings = clock.timings
        if let alignment { timings.append(alignment.timings, prefix: "align") }
        if let blend { timings.append(blend.timings, prefix: "blend") }
        let warnings = [(Role.wide, wide), (Role.tele, tele)].flatMap { role, frame in
            frame.warnings.map { InputWarning(role: role, message: $0) }
        }
        return RenderedCapture(outputs: outputs, gate: gate, decision: decision(gate),
                               tele: tele.image, source: source, alignment: alignment, composed: composed, blend: blend,
                               wideEXIFPayload: wide.exifPayload, timings: timings, warnings: warnings)
    }

    /// W's digital zoom at each configured zoom (step 2 again); `source` itself where an output
    /// shows exactly T's view at T's size.
    private func wideZooms(_ wide: YCbCrImage, source: YCbCrImage, teleView: Rect) -> [RenderedOutput] {
        let size = outputSize(tele: source.size)
        return output.zooms.map { zoom in
            let ratio = zoom.value(for: rig)
            let crop = DigitalZoom.cropRect(wide: wide.size, calibration: rig, zoom: ratio, outputSize: size)
            let image = crop == teleView && size == source.size ? source : DigitalZoom.render(wide, crop: crop, to: size)
            return RenderedOutput(image: image, zoom: ratio, crop: crop)
        }
    }

    /// Steps 8–9 on `I_src`'s grid: where T can be trusted, and `Y_fusion` there, `Y_src` elsewhere.
    private func blend(_ fused: consuming Plane, source: Plane, alignment: Alignment, tele: DecodedJPEG,
                       wideNoise: Double) -> (Plane, BlendWeights) {
        let inputs = BlendInputs(source: source, alignment: alignment,
                                 autofocusRegion: autofocusRegion(tele) ?? BlendInputs.centralRegion,
                                 wideNoise: Float(wideNoise), zoomRatio: rig.zoomRatio)
        let weights = Blend.weights(inputs, settings: blend.settings)
        var composed = Blend.compose(fusion: fused, source: source, weight: weights.weight)
        composed.clampToUnitRange()
        return (composed, weights)
    }

    private func decision(_ gate: GateDecision) -> String {
        if fusion == nil { return "skipped: fusion off" }
        return gate.fuses ? "fused" : "skipped: \(gate.outcome.rawValue)"
    }

    /// The fused luma onto the output: as it is when the output is `I_src`'s grid, else pasted
    /// into the W digital zoom where T's view lands in it.
    private func paste(_ composed: Plane, source: Plane, change: inout Plane?, teleView: Rect, crop: Rect,
                       into image: inout YCbCrImage) {
        if image.size == composed.size, crop == teleView {
            image.y = composed
        } else {
            let placement = DigitalZoom.placement(of: teleView, in: crop, outputSize: image.size)
            let difference = change ?? Blend.change(from: source, to: composed)
            change = difference
            Blend.paste(difference, into: &image.y, at: placement)
        }
    }

    /// Where T focused, as fractions of its frame: EXIF SubjectArea (a point, circle or
    /// rectangle in stored pixels; only for upright frames, whose stored and shown pixels
    /// agree), else the configured region.
    private func autofocusRegion(_ tele: DecodedJPEG) -> Rect? {
        let stored = tele.storedSize
        guard let area = tele.exif.subjectArea, area.count >= 2, tele.exif.orientation == 1,
              stored.width > 0, stored.height > 0 else { return blend.autofocusRegion }
        let centre = BlendInputs.centralRegion
        let (areaWidth, areaHeight): (Double, Double) = switch area.count {
        case 2: (centre.width, centre.height)
        case 3: (Double(area[2]) / Double(stored.width), Double(area[2]) / Double(stored.height))
        default: (Double(area[2]) / Double(stored.width), Double(area[3]) / Double(stored.height))
        }
        // The file may claim an area larger than the frame.
        let (width, height) = (min(areaWidth, 1), min(areaHeight, 1))
        let x = Double(area[0]) / Double(stored.width), y = Double(area[1]) / Double(stored.height)
        return Rect(x: min(max(x - width / 2, 0), 1 - width), y: min(max(y - height / 2, 0), 1 - height), width: width, height: height)
    }

    /// Both frames decode on their own cores: decoding is most of the work of this path.
    private func decodeBoth(_ wideBytes: [UInt8], _ teleBytes: [UInt8]) throws -> (DecodedJPEG, DecodedJPEG) {
        let (limit, usingCorruptData) = (maxPixels, corruptFrames == .use)
        let decoded = try [(Role.wide, wideBytes), (Role.tele, teleBytes)].concurrentMap { role, bytes in
            do {
                return try decodeJPEG(bytes, maxPixels: limit, usingCorruptData: usingCorruptData)
            } catch {
                throw InputError(role: role, underlying: error)
            }
        }
        return (decoded[0], decoded[1])
    }

    private func exposure(of exif: EXIF) -> ExposureSettings {
        ExposureSettings(exposureTime: exif.exposureTime, fNumber: exif.fNumber, iso: exif.iso.map(Double.init))
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
