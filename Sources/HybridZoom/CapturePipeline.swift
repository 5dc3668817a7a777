/// One capture through the whole pipeline: from the decoded W and T frames to the images at each
/// output zoom, with every decision and measurement on the way. The daemon, every `hzsr` command
/// and the tests run captures through this one type.
///
/// Steps, as the paper numbers them: 2 `I_src` (W cropped to T's view at T's resolution), the
/// gate, 3–6 alignment, the gate again (alignment failed), 8 the blend maps and weight (before
/// fusion: they read only alignment's planes), 7 fusion, 9 the blend and the paste into W's
/// digital zoom at each output zoom. A capture the gate skips, or any capture
/// when fusion is off, publishes W's digital zoom: the baseline every stage is measured against.
public struct CapturePipeline: Sendable {
    public var settings: CaptureSettings
    /// Step 7 (the network, or classical detail transfer); nil turns fusion off.
    public var fusion: (any Fusion)?

    public init(settings: CaptureSettings, fusion: (any Fusion)?) {
        self.settings = settings
        self.fusion = fusion
    }

    /// Takes the frames: W's planes go before alignment's buffers come, but for what the outputs
    /// need of them, and T's once it is aligned. Only T's luma is read: its chroma may be empty.
    /// The outputs are made last, when fusion's buffers are gone. A `Y_src` larger than
    /// `settings.largestHeldSource` is never held whole: W's 8-bit luma stays instead, and each
    /// stage makes the part it reads (`SourceLuma`).
    ///
    /// Without `keepingIntermediates` (the daemon, which publishes the outputs and nothing
    /// more), fusion writes `Y_fusion` over `Ỹ_ref`, holding only the tiles not yet copied in
    /// where it made a third full-resolution plane, and a fused `I_src`'s luma goes before the
    /// outputs' chroma comes unless an output beside its grid is pasted from it: the result's
    /// `alignment.warpedReference` and `source` are nil then.
    public func process(
        wide: consuming CaptureFrame, tele: consuming CaptureFrame, keepingIntermediates: Bool = true
    ) throws -> ProcessedCapture {
        var clock = StageClock()
        let rig = settings.rig, teleSize = tele.image.size
        let teleView = DigitalZoom.teleView(wide: wide.image.size, calibration: rig, teleSize: teleSize)
        let sourceLuma = SourceLuma(wide: wide.image.y, view: teleView, size: teleSize, largestHeld: settings.largestHeldSource)
        clock.lap(.source)

        let measured = [copy wide, copy tele].concurrentMap { FrameMeasurement(luma: $0.image.y, exposure: $0.exposure) }
        var gate = Gate.decide(wide: measured[0], tele: measured[1], zoomRatio: rig.zoomRatio, settings: settings.gate)
        clock.lap(.gate)

        // What the outputs read of W: its chroma (51 MB at 100 MP, where `I_src`'s in floats is
        // 200), and all of it only for an output beside `I_src`'s grid.
        let crops = outputCrops(wide: wide.image.size, teleView: teleView, sourceSize: teleSize)
        let wideForOutputs = crops.allSatisfy(\.onSourceGrid) ? nil : wide.image
        let (wideSize, wideChroma) = (wide.image.size, (cb: wide.image.cb, cr: wide.image.cr))
        _ = consume wide

        let (teleLuma, teleFocus) = (tele.image.y, tele.focusRegion)
        _ = consume tele
        var alignment: Alignment?
        if gate.fuses, fusion != nil {
            let aligned = Alignment.align(source: sourceLuma, reference: consume teleLuma, settings: settings.alignment)
            clock.lap(.align)
            gate = Gate.decide(
                wide: measured[0], tele: measured[1], zoomRatio: rig.zoomRatio,
                alignment: AlignmentCheck(aligned), settings: settings.gate)
            alignment = aligned
        }

        // Fusion and blending run once, on `I_src`'s grid; every zoom takes their luma. The blend
        // maps read only what alignment made, so they come first: their full-resolution buffers
        // are gone before fusion.
        var composed: Plane?, blend: BlendWeights?
        if gate.fuses, let fusion, var aligned = alignment.take() {
            let weights = blendWeights(source: sourceLuma, alignment: aligned, teleFocus: teleFocus, gate: gate.measurements)
            clock.lap(.blend)
            let inputs = FusionInputs(source: sourceLuma, alignment: aligned)
            if !keepingIntermediates { aligned.warpedReference = nil }
            alignment = aligned
            let fused = try fusion.fuse(consume inputs)
            clock.lap(.fuse)
            var luma = Blend.compose(fusion: fused, source: sourceLuma, weight: weights.weight)
            luma.clampToUnitRange()
            clock.lap(.blend)
            (composed, blend) = (luma, weights)
        }

        // Made whole only for an output of it, not fused, or for the caller.
        let needsSource = keepingIntermediates || composed == nil || !crops.allSatisfy(\.onSourceGrid)
        let keptSource = needsSource ? (keepingIntermediates ? SourceLuma(sourceLuma.plane) : sourceLuma) : nil
        _ = consume sourceLuma
        let chroma = DigitalZoom.renderChroma(cb: wideChroma.cb, cr: wideChroma.cr, wide: wideSize, view: teleView, to: teleSize)
        let outputs = zoomedImages(
            crops, chroma: chroma, source: keptSource, composed: composed, wide: wideForOutputs, teleView: teleView)
        let source = keepingIntermediates ? keptSource.map { YCbCrImage(y: $0.plane, cb: chroma.cb, cr: chroma.cr) } : nil
        clock.lap(.zoom)

        var timings = clock.timings
        if let alignment { timings.append(alignment.timings, under: .align) }
        if let blend { timings.append(blend.timings, under: .blend) }
        let decision = fusion == nil ? CaptureDecision.skipped(.fusionOff) : CaptureDecision(gate.outcome)
        return ProcessedCapture(
            outputs: outputs, decision: decision,
            reason: fusion == nil ? decision.description : gate.reason, gate: gate,
            source: source, alignment: alignment, composed: composed, blend: blend,
            timings: timings)
    }

    /// The part of W each configured zoom shows (step 2 again), in W's orientation, at the
    /// output size, and whether that is exactly `I_src`'s grid: T's view, not turned, at T's size.
    private func outputCrops(wide: Size, teleView: TeleView, sourceSize: Size) -> [OutputCrop] {
        let size = settings.outputSize ?? sourceSize
        return settings.zooms.map { zoom in
            let rect = DigitalZoom.cropRect(wide: wide, calibration: settings.rig, zoom: zoom, outputSize: size)
            return OutputCrop(rect: rect, size: size, onSourceGrid: rect == teleView.crop && teleView.rotation == 0 && size == sourceSize)
        }
    }

    private struct OutputCrop {
        var rect: Rect
        var size: Size
        var onSourceGrid: Bool
    }

    /// The images at each zoom: on `I_src`'s grid, the fused luma (`I_src`'s, `source`, when not
    /// fused) with `chroma`; beside it, W's digital zoom (`wide` is then given) with the fused
    /// luma pasted in where T's view lands (`source` is then given too).
    private func zoomedImages(
        _ crops: [OutputCrop], chroma: (cb: Plane, cr: Plane), source: SourceLuma?, composed: Plane?, wide: CameraImage?,
        teleView: TeleView
    ) -> [ZoomedImage] {
        var change: Plane?  // made by the first zoom that needs it
        return zip(settings.zooms, crops).map { zoom, crop in
            guard !crop.onSourceGrid else {
                let image = YCbCrImage(y: composed ?? source!.plane, cb: chroma.cb, cr: chroma.cr)
                return ZoomedImage(image: image, zoom: zoom, crop: crop.rect)
            }
            var output = ZoomedImage(image: DigitalZoom.render(wide!, crop: crop.rect, to: crop.size), zoom: zoom, crop: crop.rect)
            if let composed { paste(composed, source: source!, change: &change, teleView: teleView, into: &output) }
            return output
        }
    }

    /// Step 8 on `I_src`'s grid: where T can be trusted (step 9 then takes `Y_fusion` there and
    /// `Y_src` elsewhere).
    private func blendWeights(source: SourceLuma, alignment: Alignment, teleFocus: Rect?, gate: GateMeasurements) -> BlendWeights {
        let inputs = BlendInputs(
            source: source, alignment: alignment,
            autofocusRegion: teleFocus ?? settings.autofocusRegion ?? BlendInputs.centralRegion,
            wideNoise: Float(gate.noiseWide), teleNoise: Float(gate.noiseTele), zoomRatio: settings.rig.zoomRatio)
        return Blend.weights(inputs, settings: settings.blend)
    }

    /// The fused luma onto an output beside `I_src`'s grid: pasted into the W digital zoom where
    /// T's view lands in it (turned, on a turned rig).
    private func paste(
        _ composed: Plane, source: SourceLuma, change: inout Plane?, teleView: TeleView,
        into output: inout ZoomedImage
    ) {
        let difference = change ?? Blend.change(from: source, to: composed)
        change = difference
        if teleView.rotation == 0 {
            let placement = DigitalZoom.placement(of: teleView.crop, in: output.crop, outputSize: output.image.size)
            Blend.paste(difference, into: &output.image.y, at: placement)
        } else if let wideToSource = teleView.wideMapping(from: composed.size).inverse {
            let crop = output.crop, size = output.image.size
            let outputToWide = Homography([
                crop.width / Double(size.width), 0, crop.x, 0, crop.height / Double(size.height), crop.y, 0, 0, 1,
            ])
            Blend.paste(difference, into: &output.image.y, mapping: outputToWide.followed(by: wideToSource))
        }
    }
}

/// What the pipeline is told of a capture beyond its pixels.
public struct CaptureSettings: Sendable {
    public var rig: RigCalibration
    /// Each output's zoom relative to W's full view, the primary first.
    public var zooms: [Double]
    /// The outputs' size; nil: T's.
    public var outputSize: Size?
    public var gate: GateSettings
    public var alignment: AlignmentSettings
    public var blend: BlendSettings
    /// Where T focuses when its frame does not say (as fractions of its frame); nil: the centre.
    public var autofocusRegion: Rect?
    /// The most pixels `Y_src` may have and still be held whole; a larger one is made from W's
    /// 8-bit luma as each stage reads it (`SourceLuma`).
    public var largestHeldSource = defaultLargestHeldSource
    /// 32 MP: 128 MB in floats.
    public static let defaultLargestHeldSource = 32_000_000

    public init(
        rig: RigCalibration, zooms: [Double]? = nil, outputSize: Size? = nil, gate: GateSettings = GateSettings(),
        alignment: AlignmentSettings = AlignmentSettings(), blend: BlendSettings = BlendSettings(),
        autofocusRegion: Rect? = nil
    ) {
        self.rig = rig
        self.zooms = zooms ?? [rig.zoomRatio]
        self.outputSize = outputSize
        self.gate = gate
        self.alignment = alignment
        self.blend = blend
        self.autofocusRegion = autofocusRegion
    }
}

/// One frame as the pipeline reads it: upright, in the 8 bits its JPEG held, with what its
/// camera said about it.
public struct CaptureFrame: Sendable {
    public var image: CameraImage
    public var exposure: ExposureSettings
    /// Where the camera focused, as fractions of the upright frame, when it said.
    public var focusRegion: Rect?

    public init(image: CameraImage, exposure: ExposureSettings = ExposureSettings(), focusRegion: Rect? = nil) {
        self.image = image
        self.exposure = exposure
        self.focusRegion = focusRegion
    }

    /// A frame made in floats (a simulation), rounded to 8 bits as its camera would store it.
    public init(quantizing image: YCbCrImage, exposure: ExposureSettings = ExposureSettings(), focusRegion: Rect? = nil) {
        self.init(image: CameraImage(quantizing: image), exposure: exposure, focusRegion: focusRegion)
    }
}

/// One output image: W's digital zoom, with the fused luma pasted in when the capture was fused.
public struct ZoomedImage: Sendable {
    public var image: YCbCrImage
    public var zoom: Double
    /// The part of W, in W's pixels, that the image shows.
    public var crop: Rect
}

/// What a capture became: fused, or skipped for one reason.
public enum CaptureDecision: Sendable, Equatable, Hashable, CustomStringConvertible {
    case fused
    case skipped(SkipReason)

    public enum SkipReason: String, Sendable, CaseIterable, Codable {
        case lowLight = "low light"
        case teleNoisier = "tele noisier than wide"
        case alignmentFailed = "alignment failed"
        case fusionOff = "fusion off"
    }

    init(_ outcome: GateDecision.Outcome) {
        switch outcome {
        case .fused: self = .fused
        case .lowLight: self = .skipped(.lowLight)
        case .teleNoisier: self = .skipped(.teleNoisier)
        case .alignmentFailed: self = .skipped(.alignmentFailed)
        }
    }

    /// `fused` or `skipped: <reason>`, as the sidecar, the journal and the commands write it.
    public var description: String {
        switch self {
        case .fused: "fused"
        case .skipped(let reason): "skipped: \(reason.rawValue)"
        }
    }

    /// Every decision a capture can end in.
    public static var all: [CaptureDecision] { [.fused] + SkipReason.allCases.map(CaptureDecision.skipped) }

    /// The decision its description names, such as "skipped: low light".
    public init?(_ text: String) {
        guard let decision = Self.all.first(where: { $0.description == text }) else { return nil }
        self = decision
    }
}

extension CaptureDecision: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let decision = CaptureDecision(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown decision '\(text)'"))
        }
        self = decision
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// One capture's output images before encoding, what was decided on the way, and the images
/// that led to them (for the maps and the harness).
public struct ProcessedCapture: Sendable {
    /// One per configured zoom, in the configured order.
    public var outputs: [ZoomedImage]
    public var decision: CaptureDecision
    /// The decision with its particulars, such as "skipped: low light (EV100 of W 1.14 below 3.00)".
    public var reason: String
    /// The gate's decision and measurements (also when fusion is off, for the measurements).
    public var gate: GateDecision
    /// `I_src`: W cropped to T's calibrated field of view at T's resolution (step 2); nil unless
    /// the pipeline was asked to keep its intermediates.
    public var source: YCbCrImage?
    /// T aligned to `I_src` (steps 3–6); nil when the capture was not aligned.
    public var alignment: Alignment?
    /// When fused: the luma that fusion and blending made on `I_src`'s grid (steps 7–9), and the blend.
    public var composed: Plane?
    public var blend: BlendWeights?
    public var timings: StageTimings

    public var fused: Bool { composed != nil }
    /// The output at the first configured zoom.
    public var primary: ZoomedImage { outputs[0] }
}
