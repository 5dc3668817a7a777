import ArgumentParser
import Foundation
import HZHarness
import HZImageIO
import HZSpool
import HybridZoom

/// `hzsr maps`: a contact sheet of one capture's intermediate images, so people can look
/// instead of read. Given a capture of a set, it adds the ground truth next to them.
struct MapsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maps",
        abstract: "Write a contact sheet (PNG) of one capture's intermediate images.",
        discussion: """
            hzsr maps W.jpg T.jpg -o sheet.png
            hzsr maps --capture .cache/sets/eval/0003 -o sheet.png
            """)

    @Argument(help: "The wide and the tele frame (or give --capture).") var frames: [String] = []
    @Option(help: "A capture folder of a set (hzsr simulate --set): its frames, plus its ground truth.") var capture: String?
    @Option(name: .shortAndLong, help: "The PNG to write.") var output: String
    @Option(help: "A config file for rig and output settings (default: built-in defaults; a capture's zoom ratio wins).")
    var config: String?

    func validate() throws {
        guard (frames.count == 2) != (capture != nil) else { throw ValidationError("give W.jpg T.jpg, or --capture FOLDER") }
    }

    func run() throws {
        var settings = try loadConfig(config)
        let info = try capture.map(CaptureSet.readInfo)
        if let info { settings.rig = RigCalibration(zoomRatio: info.parameters.zoomRatio) }
        let (widePath, telePath) = capture.map { ("\($0)/wide.jpg", "\($0)/tele.jpg") } ?? (frames[0], frames[1])
        // Decoded once: the sheet shows the frames the pipeline took.
        let (wide, tele) = try CaptureFiles.decode(
            wide: try readInput(widePath), tele: try readInput(telePath), intake: settings.intake, teleChroma: true)
        let rendered = try settings.pipeline(try FusionStage(settings.fusion)).process(wide: CaptureFrame(wide), tele: CaptureFrame(tele))

        var sheet = ContactSheet(heading: "\(capture ?? widePath): \(rendered.gate.reason)")
        sheet.add("W, whole frame", wide.image.floats)
        sheet.add("T", tele.image.floats)
        let made = rendered.fused ? "\(settings.fusion.method.rawValue) fusion" : "W digital zoom"
        sheet.add(String(format: "output: %@ ×%.2f", made, rendered.primary.zoom), rendered.primary.image)
        let alignment =
            rendered.alignment
            ?? Alignment.align(source: rendered.source!.y, reference: tele.image.y, settings: settings.captureSettings.alignment)
        addAlignment(rendered, alignment, to: &sheet)
        if let blend = rendered.blend { add(blend.mapImages, to: &sheet) }
        if let capture { try addGroundTruth(of: capture, rendered, to: &sheet) }
        try sheet.render(to: output)
        print("written: \(output) (\(sheet.size))")
    }

    /// Steps 3–6: what T looks like on W's grid, and where it cannot be trusted.
    private func addAlignment(_ rendered: ProcessedCapture, _ alignment: Alignment, to sheet: inout ContactSheet) {
        sheet.add("I_src: W cropped to T's view", rendered.source!)
        guard let warped = alignment.warpedReference else { preconditionFailure("the maps' pipeline keeps Ỹ_ref") }
        sheet.add("Ỹ_ref: T warped onto I_src", grayImage(warped))
        sheet.add("Ỹ_ref − Y_src, ×4", differenceImage(warped, rendered.source!.y, gain: 4))
        add(alignment.mapImages, to: &sheet)
    }

    /// The maps the daemon publishes with `output.maps`, under their captions.
    private func add(_ maps: [MapImage], to sheet: inout ContactSheet) {
        for map in maps { sheet.add(map.title, map.image) }
    }

    private func addGroundTruth(of folder: String, _ rendered: ProcessedCapture, to sheet: inout ContactSheet) throws {
        let target = try NumpyFile.readPlane(at: "\(folder)/target_y.npy")
        let flow = try NumpyFile.readChannels(at: "\(folder)/flow_forward.npy")
        sheet.add("ground truth: target", grayImage(target))
        sheet.add("W digital zoom − target, ×4", differenceImage(rendered.source!.y, target, gain: 4))
        sheet.add("output − target, ×4", differenceImage(rendered.primary.image.y, target, gain: 4))
        sheet.add("true flow I_src → T", flowImage(u: flow[0], v: flow[1]))
        sheet.add("true occlusion", heatImage(try NumpyFile.readMask(at: "\(folder)/occlusion.npy"), range: 0...1))
        sheet.add("true defocus", heatImage(try NumpyFile.readMask(at: "\(folder)/defocus.npy"), range: 0...1))
        sheet.add("T's coverage", heatImage(try NumpyFile.readMask(at: "\(folder)/tele_coverage.npy"), range: 0...1))
    }
}
