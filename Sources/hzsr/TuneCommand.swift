import ArgumentParser
import Foundation
import HZHarness
import HZSpool
import HybridZoom

/// `hzsr tune SET --param NAME --values a,b,c`: one constant swept over a capture set, every
/// other setting at its default, and the table it is chosen from. Tune on a set simulated from
/// the training photos (`hzsr simulate --set N --split train`), report on the evaluation set.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune", abstract: "Sweep one of the pipeline's chosen constants over a capture set and print the table.",
        discussion: "Parameters: \(TunedParameter.allCases.map(\.rawValue).joined(separator: ", ")).")

    @Argument(help: "A capture set (hzsr simulate --set).") var set: String
    @Option(help: "The constant to sweep.") var param: TunedParameter
    @Option(help: "Its values, separated by commas.") var values: String
    @Option(help: "The fusion the blend and the band split are judged with: network or classical.") var fusion = FusionSettings.Method.network

    func validate() throws {
        guard !parsedValues.isEmpty, parsedValues.count == values.split(separator: ",").count else {
            throw ValidationError("--values must be numbers separated by commas")
        }
        guard fusion != .off else { throw ValidationError("--fusion must be network or classical") }
    }

    private var parsedValues: [Double] { values.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        print("\(param.rawValue) on \((set as NSString).lastPathComponent), default \(param.defaultValue.label)\n")
        if param.judgedBy.contains(.alignment) { print(try alignmentSweep() + "\n") }
        if param.judgedBy.contains(.blending) || param.judgedBy.contains(.fusion) { print(try evaluationSweep()) }
    }

    /// Steps 3–6 alone, per value: the flow against the true flow and occluders.
    private func alignmentSweep() throws -> String {
        let captures = try CaptureSet.readManifest(set).captures
        let rows = try parsedValues.map { value in
            var settings = CaptureSettings(rig: RigCalibration(zoomRatio: 2)), fusion = FusionSettings(method: self.fusion)
            param.apply(value, to: &settings, fusion: &fusion)
            let alignment = settings.alignment
            let aligned = try captures.map { try ScoredAlignment(folder: "\(set)/\($0)", name: $0, settings: alignment) }
            FileHandle.standardError.write(Data("\(value.label) ".utf8))
            // Both flows, as the pipeline runs them.
            return (
                label: value.label, scores: aligned.map(\.scores),
                flowMs: aligned.map { $0.alignment.timings[named: Alignment.Step.flow.rawValue] }
            )
        }
        FileHandle.standardError.write(Data("\n".utf8))
        return alignmentTable(rows: rows, label: param.rawValue, timed: "both flows")
    }

    /// The whole pipeline per value, scored as `hzsr eval` scores it, beside W's digital zoom and,
    /// for the blend's constants, the same fusion unblended.
    private func evaluationSweep() throws -> String {
        // The band split is classical fusion's; the blend is judged with the fusion asked for.
        let fusion = param == .bandSplit ? FusionSettings.Method.classical : self.fusion
        let stage = try FusionStage(FusionSettings(method: fusion)), intake = try loadConfig(nil).intake
        var methods: [(name: String, run: Evaluation.Method)] = [
            (Evaluation.baseline, Self.method(CaptureSettings(rig: RigCalibration(zoomRatio: 2)), nil, intake))
        ]
        if param.judgedBy.contains(.blending) {
            var unblended = CaptureSettings(rig: RigCalibration(zoomRatio: 2))
            unblended.blend.maps = []
            methods.append((fusion.rawValue, Self.method(unblended, stage, intake)))
        }
        for value in parsedValues {
            var settings = CaptureSettings(rig: RigCalibration(zoomRatio: 2)), fusionSettings = FusionSettings(method: fusion)
            param.apply(value, to: &settings, fusion: &fusionSettings)
            if !param.judgedBy.contains(.blending) { settings.blend.maps = [] }
            let name = "\(fusion.rawValue)\(param.judgedBy.contains(.blending) ? "+blend" : "") \(param.rawValue)=\(value.label)"
            methods.append((name, Self.method(settings, try FusionStage(fusionSettings, reusing: stage), intake)))
        }
        let report = try Evaluation(methods: methods).evaluate(set: set) { FileHandle.standardError.write(Data("\($0) ".utf8)) }
        FileHandle.standardError.write(Data("\n".utf8))
        return param.judgedBy.contains(.blending) ? report.blendingTable() : report.markdownTable()
    }

    /// The pipeline with `settings` (the rig's zoom ratio taken from each capture) and `fusion`.
    private static func method(
        _ settings: CaptureSettings, _ fusion: FusionStage?, _ intake: DaemonConfig.Intake
    )
        -> Evaluation.Method
    {
        { @Sendable wide, tele, ratio in
            var atRatio = settings
            atRatio.rig = RigCalibration(zoomRatio: ratio)
            atRatio.zooms = [ratio]
            let pipeline = CapturePipeline(settings: atRatio, fusion: fusion?.fusion(zoomRatio: ratio))
            let processed = try CaptureFiles.process(wide: wide, tele: tele, pipeline: pipeline, intake: intake)
            return MethodOutput(processed)
        }
    }
}

/// The constants chosen on data, each with what judges it: the one table of them.
enum TunedParameter: String, CaseIterable, ExpressibleByArgument {
    case flowStride = "flow.stride"
    case flowIterations = "flow.gauss-newton-steps"
    case refinementSmoothness = "flow.refinement-alpha"
    case occlusionScale = "occlusion.scale"
    case mapNoiseFloor = "blend.noise-floor"
    case defocusBlurredBelow = "defocus.blurred-below"
    case defocusSharpAbove = "defocus.sharp-above"
    case defocusSharpQuantile = "defocus.sharp-quantile"
    case parallaxGamma = "defocus-parallax.gamma"
    case parallaxFlatRegion = "defocus-parallax.flat-region"
    case uncertaintyLimit = "uncertainty.limit"
    case rejectionTolerance = "rejection.tolerance"
    case bandSplit = "classical.band-split"

    enum Judge { case alignment, blending, fusion }

    var judgedBy: Set<Judge> {
        switch self {
        case .flowStride, .flowIterations, .refinementSmoothness: [.alignment]
        case .occlusionScale: [.alignment, .blending]
        case .mapNoiseFloor, .defocusBlurredBelow, .defocusSharpAbove, .defocusSharpQuantile, .parallaxGamma, .parallaxFlatRegion,
            .uncertaintyLimit, .rejectionTolerance:
            [.blending]
        case .bandSplit: [.fusion]
        }
    }

    var defaultValue: Double {
        let settings = CaptureSettings(rig: RigCalibration(zoomRatio: 2))
        switch self {
        case .flowStride: return Double(settings.alignment.flow.patchStride)
        case .flowIterations: return Double(settings.alignment.flow.iterations)
        case .refinementSmoothness: return Double(settings.alignment.flow.refinementSmoothness)
        case .occlusionScale: return Double(settings.alignment.occlusionScale)
        case .mapNoiseFloor: return Double(settings.blend.mapNoiseFloor)
        case .defocusBlurredBelow: return Double(settings.blend.maps.compactMap { $0 as? DefocusMap }.first?.blurredBelow ?? .nan)
        case .defocusSharpAbove: return Double(settings.blend.maps.compactMap { $0 as? DefocusMap }.first?.sharpAbove ?? .nan)
        case .defocusSharpQuantile: return settings.blend.maps.compactMap { $0 as? DefocusMap }.first?.sharpQuantile ?? .nan
        case .parallaxGamma: return Double(settings.blend.maps.compactMap { $0 as? ParallaxDefocusMap }.first?.gamma ?? .nan)
        case .parallaxFlatRegion:
            return Double(settings.blend.maps.compactMap { $0 as? ParallaxDefocusMap }.first?.flatRegion ?? .nan)
        case .uncertaintyLimit: return Double(settings.blend.maps.compactMap { $0 as? FlowUncertaintyMap }.first?.limit ?? .nan)
        case .rejectionTolerance: return Double(settings.blend.maps.compactMap { $0 as? RejectionMap }.first?.tolerance ?? .nan)
        case .bandSplit: return FusionSettings(method: .classical).bandSplitSigma
        }
    }

    func apply(_ value: Double, to settings: inout CaptureSettings, fusion: inout FusionSettings) {
        func replacing<Map: BlendMap>(_ type: Map.Type, _ change: (inout Map) -> Void) {
            settings.blend.maps = settings.blend.maps.map { map in
                guard var typed = map as? Map else { return map }
                change(&typed)
                return typed
            }
        }
        switch self {
        case .flowStride: settings.alignment.flow.patchStride = Int(value)
        case .flowIterations: settings.alignment.flow.iterations = Int(value)
        case .refinementSmoothness: settings.alignment.flow.refinementSmoothness = Float(value)
        case .occlusionScale: settings.alignment.occlusionScale = Float(value)
        case .mapNoiseFloor: settings.blend.mapNoiseFloor = Float(value)
        case .defocusBlurredBelow: replacing(DefocusMap.self) { $0.blurredBelow = Float(value) }
        case .defocusSharpAbove: replacing(DefocusMap.self) { $0.sharpAbove = Float(value) }
        case .defocusSharpQuantile: replacing(DefocusMap.self) { $0.sharpQuantile = value }
        case .parallaxGamma: replacing(ParallaxDefocusMap.self) { $0.gamma = Float(value) }
        case .parallaxFlatRegion: replacing(ParallaxDefocusMap.self) { $0.flatRegion = Float(value) }
        case .uncertaintyLimit: replacing(FlowUncertaintyMap.self) { $0.limit = Float(value) }
        case .rejectionTolerance: replacing(RejectionMap.self) { $0.tolerance = Float(value) }
        case .bandSplit: fusion.bandSplitSigma = value
        }
    }
}

extension FusionSettings.Method: ExpressibleByArgument {}

extension Double {
    /// Compactly, as tables and method names show a swept value: `0.75`, `1000`, `0.003`.
    fileprivate var label: String { String(format: "%g", self) }
}
