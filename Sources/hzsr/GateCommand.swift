import ArgumentParser
import Foundation
import HZHarness
import HZSpool
import HybridZoom

/// `hzsr gate SET`: the gate's decision on every capture of a set (an exposure ladder, say), with
/// the measurements it was made on, and whether each capture's output is the W digital zoom
/// exactly when the decision says skip.
struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate", abstract: "List the gate's decisions and measurements on a capture set.",
        discussion: "hzsr simulate --set 16 --exposure ladder --out .cache/sets/ladder && hzsr gate .cache/sets/ladder")

    @Argument(help: "A capture set (hzsr simulate --set).") var set: String
    @Option(help: "A config file for the pipeline's settings, thresholds included (default: built-in defaults).")
    var config: String?

    func run() throws {
        let base = try loadConfig(config).scoringTeleView()
        let fusion = try FusionStage(base.fusion)
        let manifest = try CaptureSet.readManifest(set)
        let thresholds = base.gate
        var lines = [
            String(
                format: "Gate thresholds: EV100 of W ≥ %.1f, mean luma of W ≥ %.3f, T's noise at W's scale ≤ %.2f × W's "
                    + "(or ≤ %.4f), overlap ≥ %.2f.", thresholds.minimumEV100, thresholds.minimumMeanLuma,
                thresholds.maximumTeleNoiseRatio, thresholds.noiseFloor, thresholds.minimumOverlap),
            "",
            "| Capture | Photo | EV100 W | EV100 T | Luma W | Noise W | Noise T / r | Decision | Output |",
            "|:--|:--|--:|--:|--:|--:|--:|:--|:--|",
        ]
        var contradictions = 0
        for capture in manifest.captures {
            let folder = "\(set)/\(capture)"
            let info = try CaptureSet.readInfo(folder)
            var settings = base
            settings.rig = RigCalibration(zoomRatio: info.parameters.zoomRatio)
            let rendered = try CaptureFiles.process(
                wide: try readInput("\(folder)/wide.jpg"), tele: try readInput("\(folder)/tele.jpg"),
                pipeline: settings.pipeline(fusion), intake: settings.intake)
            let isWideZoom = rendered.primary.image.y == rendered.source!.y
            if rendered.gate.fuses == isWideZoom { contradictions += 1 }
            let m = rendered.gate.measurements
            func ev(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "–" }
            lines.append(
                "| \(capture) | \(info.photo) | \(ev(m.ev100Wide)) | \(ev(m.ev100Tele)) | "
                    + String(format: "%.3f | %.4f | %.4f", m.meanLumaWide, m.noiseWide, m.noiseTeleAtWideScale)
                    + " | \(rendered.decision) | \(isWideZoom ? "W digital zoom" : "fused") |")
        }
        lines += ["", "\(manifest.captures.count) captures; outputs that contradict their decision: \(contradictions)."]
        print(lines.joined(separator: "\n"))
        if contradictions > 0 { throw ExitCode.failure }
    }
}
