import ArgumentParser
import Foundation
import HZHarness
import HZSpool
import HybridZoom

/// `hzsr flow SET`: alignment (steps 3–6) on every capture of a set, scored against ground
/// truth, with the flow's inputs and results written as NumPy arrays so that
/// `Scripts/compare-flow.py` can run another flow method on exactly the same inputs.
struct FlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow", abstract: "Score alignment on a capture set and dump the flow's inputs for comparisons.")

    @Argument(help: "A capture set (hzsr simulate --set).") var set: String
    @Option(help: "Where to write flow.json and the per-capture arrays (default: SET/flow).") var out: String?
    @Option(help: "Timed runs of the dense flow per capture (the median is kept).") var runs = 5

    struct Report: Codable {
        var captures: [AlignmentScores]
        /// Per capture: median milliseconds of one dense flow (source → reference) on the dumped inputs.
        var flowMs: [Double]
        var flowSize: [Int]
    }

    func run() throws {
        let manifest = try CaptureSet.readManifest(set)
        let folder = out ?? "\(set)/flow"
        var scores: [AlignmentScores] = [], times: [Double] = []
        var flowSize = Size(width: 0, height: 0)
        for capture in manifest.captures {
            let scored = try ScoredAlignment(folder: "\(set)/\(capture)", name: capture)
            flowSize = scored.alignment.forward.flow.size
            scores.append(scored.scores)
            times.append(timeFlow(scored.alignment))
            try dump(scored.alignment, scored.truth, to: "\(folder)/\(capture)")
            FileHandle.standardError.write(Data("\(capture) ".utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        try CaptureSet.encoder.encode(Report(captures: scores, flowMs: times, flowSize: [flowSize.width, flowSize.height]))
            .write(to: URL(fileURLWithPath: "\(folder)/flow.json"))
        print(summary(scores, times))
    }

    private func timeFlow(_ alignment: Alignment) -> Double {
        median(
            (0..<runs).map { _ in
                let start = ContinuousClock.now
                _ = DenseFlow.compute(from: alignment.flowSource, to: alignment.flowReference)
                return (ContinuousClock.now - start).milliseconds
            })
    }

    /// `source.npy`, `reference.npy` (the flow's inputs, the reference already brought onto the
    /// source by the coarse model), `prewarp.npy` (that model's displacement), `ours.npy` and
    /// `truth.npy` (total flows, H×W×2), `visible.npy`.
    private func dump(_ alignment: Alignment, _ truth: FlowGroundTruth, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try NumpyFile.write(alignment.flowSource, to: "\(folder)/source.npy")
        try NumpyFile.write(alignment.flowReference, to: "\(folder)/reference.npy")
        try NumpyFile.write([alignment.forward.flow.u, alignment.forward.flow.v], to: "\(folder)/ours.npy")
        try NumpyFile.write([truth.flow.u, truth.flow.v], to: "\(folder)/truth.npy")
        try NumpyFile.writeMask(truth.visible, to: "\(folder)/visible.npy")
        try NumpyFile.write([alignment.flowPrewarp.u, alignment.flowPrewarp.v], to: "\(folder)/prewarp.npy")
    }

    private func summary(_ scores: [AlignmentScores], _ times: [Double]) -> String {
        alignmentTable(rows: [((set as NSString).lastPathComponent, scores, times)], label: "capture set")
    }
}

/// One capture of a set aligned (steps 3–6, with `settings`): `I_src`, and T aligned to it.
struct AlignedCapture {
    let source: YCbCrImage
    let alignment: Alignment

    init(folder: String, settings: AlignmentSettings = AlignmentSettings()) throws {
        let info = try CaptureSet.readInfo(folder)
        var config = try loadConfig(nil)
        config.rig = RigCalibration(zoomRatio: info.parameters.zoomRatio)
        let (wide, tele) = try CaptureFiles.decode(
            wide: try readInput("\(folder)/wide.jpg"), tele: try readInput("\(folder)/tele.jpg"), intake: config.intake)
        // Without fusion the pipeline stops at I_src and the gate: only alignment runs here.
        let frames = try CapturePipeline(settings: config.captureSettings, fusion: nil)
            .process(wide: CaptureFrame(wide), tele: CaptureFrame(tele))
        source = frames.source!
        alignment = Alignment.align(source: frames.source!.y, reference: tele.image.y, settings: settings)
    }
}

/// An aligned capture scored against its ground truth.
struct ScoredAlignment {
    let alignment: Alignment
    let truth: FlowGroundTruth
    let scores: AlignmentScores

    init(folder: String, name: String, settings: AlignmentSettings = AlignmentSettings()) throws {
        let aligned = try AlignedCapture(folder: folder, settings: settings)
        alignment = aligned.alignment
        truth = try FlowGroundTruth(folder: folder, size: alignment.forward.flow.size)
        scores = AlignmentScores(capture: name, alignment: alignment, truth: truth, fullWidth: aligned.source.size.width)
    }
}

/// Alignment scores as a Markdown table, one row per set of captures: medians, and the mean EPE.
func alignmentTable(
    rows: [(label: String, scores: [AlignmentScores], flowMs: [Double])], label: String,
    timed: String = "dense flow"
) -> String {
    func medianOf(_ values: [Double]) -> String { String(format: "%.3f", median(values.filter { !$0.isNaN })) }
    var lines = [
        "| \(label) | translation error at 12 MP (median px) | flow EPE (median px) | flow EPE (mean of captures, px) | occlusion F1 (median, captures with occluders) | uncertainty AUC (median) | \(timed) (median ms) |",
        "|:--|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows {
        let scores = row.scores, occluded = scores.filter { !$0.occlusionF1.isNaN }
        let epe = scores.map(\.endpointError).reduce(0, +) / Double(max(scores.count, 1))
        lines.append(
            "| \(row.label) | \(medianOf(scores.map(\.translationErrorAt12MP))) | \(medianOf(scores.map(\.endpointError))) | "
                + "\(String(format: "%.3f", epe)) | "
                + "\(medianOf(occluded.map(\.occlusionF1))) (\(occluded.count)) | \(medianOf(scores.map(\.uncertaintyAUC))) | "
                + "\(row.flowMs.isEmpty ? "–" : medianOf(row.flowMs)) |")
    }
    return lines.joined(separator: "\n")
}
