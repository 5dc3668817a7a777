import ArgumentParser
import Foundation
import HZHarness
import HZSpool
import HybridZoom

/// `hzsr eval SET`: every method on every capture of a set, scored against its ground truth.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score the pipeline's methods on a capture set: PSNR and SSIM against ground truth, tiles against W digital zoom.")

    @Argument(help: "A capture set (hzsr simulate --set).") var set: String
    @Option(help: "Where to write report.json, report.md and chart.png (default: SET/eval).") var out: String?
    @Option(help: "A config file for the pipeline's settings (default: built-in defaults; the rig's zoom ratio comes from the set).")
    var config: String?

    func run() throws {
        let base = try loadConfig(config).scoringTeleView()
        let network = try FusionStage(FusionSettings(method: .network, model: base.fusion.model, precision: base.fusion.precision))
        let classical = try FusionStage(FusionSettings(method: .classical, bandSplitSigma: base.fusion.bandSplitSigma))
        let evaluation = Evaluation(methods: [
            (Evaluation.baseline, method(base, try FusionStage(FusionSettings(method: .off)))),
            ("classical", method(base, classical, blending: false)),
            ("classical+blend", method(base, classical)),
            ("network", method(base, network, blending: false)),
            ("network+blend", method(base, network)),
        ])
        let report = try evaluation.evaluate(set: set) { capture in FileHandle.standardError.write(Data("\(capture) ".utf8)) }
        FileHandle.standardError.write(Data("\n".utf8))
        let folder = out ?? "\(set)/eval"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try CaptureSet.encoder.encode(report).write(to: URL(fileURLWithPath: "\(folder)/report.json"))
        try (report.markdownTable() + "\n" + report.blendingTable())
            .write(toFile: "\(folder)/report.md", atomically: true, encoding: String.Encoding.utf8)
        let chart = report.chartSVG()
        try chart.write(toFile: "\(folder)/chart.svg", atomically: true, encoding: .utf8)
        try rasterizeSVG(chart, to: "\(folder)/chart.png")
        print(report.markdownTable())
        print(report.blendingTable())
        print("written: \(folder)/report.json, report.md, chart.svg, chart.png")
    }

    /// The whole pipeline with `config` and `fusion`, at the set's zoom ratio; without
    /// `blending`, no map holds T's detail back (the weight only fades out at the edge of T's view).
    private func method(_ config: DaemonConfig, _ fusion: FusionStage, blending: Bool = true) -> Evaluation.Method {
        { @Sendable wide, tele, ratio in
            var settings = config
            settings.rig = RigCalibration(zoomRatio: ratio)
            var pipeline = settings.pipeline(fusion)
            if !blending { pipeline.settings.blend.maps = [] }
            let processed = try CaptureFiles.process(wide: wide, tele: tele, pipeline: pipeline, intake: settings.intake)
            return MethodOutput(processed)
        }
    }
}
