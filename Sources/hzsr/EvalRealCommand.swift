import ArgumentParser
import Foundation
import HZHarness
import HZSpool
import HybridZoom

/// `hzsr eval-real FOLDER`: real W/T pairs scored by the reduced-resolution protocol, without a
/// second camera: how much closer fusion comes than W's digital zoom to W's own full-resolution
/// view of what T sees.
struct EvalRealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-real", abstract: "Score real W/T pairs by the reduced-resolution protocol (no ground truth needed).",
        discussion: """
            FOLDER holds rig pairs (W/NAME.jpg and T/NAME.jpg, or NAME_W.jpg and NAME_T.jpg), which are shrunk by \
            rig.zoom_ratio and scored against W's full-resolution view of T's region, or captures prepared by \
            Scripts/make-real-set (NAME/wide.jpg, tele.jpg, target_y.npy).
            """)

    @Argument(help: "A folder of real pairs.") var folder: String
    @Option(help: "Where to write report.json, report.md and a contact sheet per capture (default: FOLDER/eval-real).")
    var out: String?
    @Option(help: "A config file: the rig's calibration, the fusion method and the pipeline's settings.") var config: String?

    func run() throws {
        let settings = try loadConfig(config)
        let fusion = try FusionStage(settings.fusion)
        let (captures, problems) = RealPairs.load(folder, rig: settings.rig, maxPixels: settings.intake.maxPixels)
        for problem in problems { FileHandle.standardError.write(Data("skipped \(problem)\n".utf8)) }
        guard !captures.isEmpty else { throw ValidationError("no readable pairs in \(folder)") }
        let folder = out ?? "\(self.folder)/eval-real"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var scores: [RealScores] = []
        for capture in captures {
            var captureSettings = settings.captureSettings
            (captureSettings.rig, captureSettings.zooms, captureSettings.outputSize) = (capture.rig, [capture.rig.zoomRatio], nil)
            let pipeline = CapturePipeline(settings: captureSettings, fusion: fusion.fusion(zoomRatio: capture.rig.zoomRatio))
            let processed: ProcessedCapture
            do { processed = try pipeline.process(wide: capture.wide, tele: capture.tele) } catch {
                FileHandle.standardError.write(Data("skipped \(self.folder)/\(capture.name): \(error)\n".utf8))
                continue
            }
            let score = RealScores(
                capture: capture.name, decision: processed.decision, reason: processed.reason, output: processed.primary.image.y,
                wideZoom: processed.source!.y, target: capture.target)
            scores.append(score)
            do { try sheet(capture, processed, score).render(to: "\(folder)/\(capture.name).png") } catch {
                FileHandle.standardError.write(Data("no contact sheet for \(self.folder)/\(capture.name): \(error)\n".utf8))
            }
            FileHandle.standardError.write(Data("\(capture.name) ".utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        let table = RealScores.table(scores)
        try CaptureSet.encoder.encode(scores).write(to: URL(fileURLWithPath: "\(folder)/report.json"))
        try (table + "\n").write(toFile: "\(folder)/report.md", atomically: true, encoding: .utf8)
        print(table)
        print("written: \(folder)/report.json, report.md and a contact sheet per capture")
    }

    /// The frames, the output beside W's digital zoom, the target, the output's error, and the
    /// maps that decided where T's detail was used.
    private func sheet(_ capture: RealCapture, _ processed: ProcessedCapture, _ score: RealScores) -> ContactSheet {
        var sheet = ContactSheet(
            heading: String(format: "%@: %@, %+.2f dB over W's digital zoom", capture.name, processed.reason, score.gain))
        sheet.add("W (shrunk)", capture.wide.image.floats)
        sheet.add("T (shrunk)", capture.tele.image.floats)
        sheet.add("target: W at full resolution", grayImage(capture.target))
        sheet.add(String(format: "output, %.2f dB", score.psnrFused), processed.primary.image)
        sheet.add(String(format: "W digital zoom, %.2f dB", score.psnrWideZoom), processed.source!)
        sheet.add("output − target, ×4", differenceImage(processed.primary.image.y, capture.target, gain: 4))
        for map in processed.mapImages { sheet.add(map.title, map.image) }
        return sheet
    }
}
