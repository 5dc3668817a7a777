import ArgumentParser
import Foundation
import HZImageIO
import HZSpool
import HZSystemd
import HybridZoom

/// `hzsr bench`: how long a capture takes, stage by stage, on the daemon's own code path; and,
/// with `--daemon`, from the moment a pair lands in a real daemon's spool to its published image.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Time the pipeline's stages and, optionally, a real daemon end to end.")

    @Option(help: "The photograph the W and T frames are made from.") var photo = ".cache/photos/daylight-1.jpg"
    @Option(help: "Frame size of both cameras, WIDTHxHEIGHT.") var size = "4032x3024"
    @Option(help: "Zoom ratio r.") var ratio = 2.0
    @Option(help: "Timed runs (the median is reported).") var runs = 5
    @Option(help: "An hzsrd binary to time end to end, from spool to published image.") var daemon: String?
    @Option(help: "Also write the results as JSON to this file.") var json: String?

    struct Report: Codable {
        var frameSize: String
        var runs: Int
        var stagesMs: [String: Summary]
        var peakResidentMB: Double
        var spoolToPublishedMs: Summary?
    }

    struct Summary: Codable {
        var median, min, max: Double
        init(_ values: [Double]) {
            let sorted = values.sorted()
            median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            min = sorted.first ?? 0
            max = sorted.last ?? 0
        }
    }

    func run() throws {
        let frames = try makeFrames()
        let config = try DaemonConfig.parse("rig: {zoom_ratio: \(ratio)}", relativeTo: "/")
        let processor = CaptureProcessor(config: config)
        _ = try processor.process(wide: frames.wide, tele: frames.tele)  // warm-up: page faults, thread pool
        let timings = try (0..<runs).map { _ in try processor.process(wide: frames.wide, tele: frames.tele).timings }
        var report = Report(
            frameSize: size, runs: runs,
            stagesMs: ["decode": Summary(timings.map(\.decode)), "zoom": Summary(timings.map(\.zoom)),
                       "encode": Summary(timings.map(\.encode)), "total": Summary(timings.map(\.total))],
            peakResidentMB: peakResidentMegabytes())
        if let daemon { report.spoolToPublishedMs = Summary(try DaemonBench(binary: daemon, frames: frames, ratio: ratio).run(times: runs)) }
        print(table(report))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
    }

    private func makeFrames() throws -> (wide: [UInt8], tele: [UInt8]) {
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2 else { throw ValidationError("--size must be WIDTHxHEIGHT") }
        let source = try decodeJPEG(try readInput(photo), maxPixels: 200_000_000)
        let rig = RigSimulator(photo: source.image, ratio: ratio, frameSize: Size(width: parts[0], height: parts[1]))
        let now = Date()
        let wideEXIF = RigSimulator.exif(role: "W", time: now, focalLength: 4.7, like: source.exif)
        let teleEXIF = RigSimulator.exif(role: "T", time: now, focalLength: 4.7 * ratio, like: source.exif)
        return (try encodeJPEG(rig.wide, quality: 92, exifPayload: wideEXIF.app1Payload()),
                try encodeJPEG(rig.tele, quality: 92, exifPayload: teleEXIF.app1Payload()))
    }

    private func table(_ report: Report) -> String {
        var lines = ["hzsr bench: \(report.frameSize) W + T, \(report.runs) runs, \(ProcessInfo.processInfo.activeProcessorCount) cores",
                     "stage                   median      min      max"]
        func row(_ name: String, _ s: Summary) -> String {
            name.padding(toLength: 20, withPad: " ", startingAt: 0) + String(format: "%9.1f %8.1f %8.1f ms", s.median, s.min, s.max)
        }
        for stage in ["decode", "zoom", "encode", "total"] { lines.append(row(stage, report.stagesMs[stage]!)) }
        if let e2e = report.spoolToPublishedMs { lines.append(row("spool → published", e2e)) }
        lines.append(String(format: "peak resident memory %.0f MB", report.peakResidentMB))
        return lines.joined(separator: "\n")
    }
}

func peakResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // Linux reports kilobytes
}
