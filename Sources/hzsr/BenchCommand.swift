import ArgumentParser
import Foundation
import HZFusionNet
import HZHarness
import HZImageIO
import HZSpool
import HybridZoom

/// `hzsr bench`: how long a capture takes, stage by stage, on the daemon's own code path, next to
/// the floor (libjpeg-turbo decoding W and T and encoding the output, which no pipeline avoids);
/// with `--daemon`, also from the moment a pair lands in a real daemon's spool to its published
/// image.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Time the pipeline's stages against the JPEG floor and, optionally, a real daemon end to end.")

    @Option(help: "The photograph the W and T frames are made from.") var photo = ".cache/photos/daylight-1.jpg"
    @Option(help: "Frame size of both cameras, WIDTHxHEIGHT.") var size = "4032x3024"
    @Option(help: "Zoom ratio r.") var ratio = 2.0
    @Option(help: "Timed runs (medians are reported).") var runs = 5
    @Option(help: "An hzsrd binary to time end to end, from spool to published image.") var daemon: String?
    @Option(help: "With --daemon: pairs dropped at once after the timed ones, to measure the daemon's rate.") var burst = 20
    @Option(help: "With --daemon: pairs dropped before the timed ones, while the daemon's heap settles.") var warmUp = 3
    @Option(help: "Also write the results as JSON to this file.") var json: String?

    func validate() throws {
        guard runs >= 1, burst >= 0, warmUp >= 0 else {
            throw ValidationError("--runs must be at least 1, --burst and --warm-up at least 0")
        }
        guard ratio > 1 else { throw ValidationError("--ratio must be above 1") }
        _ = try Size(simulatedFrame: size)
    }

    struct Report: Codable {
        var frameSize: String
        var runs: Int
        /// The CPU (`model name` of /proc/cpuinfo): times from different machines do not compare.
        var cpuModel: String
        var cores: Int
        /// GLIBC_TUNABLES as this process saw it, nil when unset (a user's override of the allocator policy).
        var glibcTunables: String?
        /// Stage names in the order they ran; sub-stages are `stage.part`.
        var stageOrder: [String]
        var stagesMs: [String: Summary]
        var floorMs: Summary
        var totalOverFloor: Double
        /// This process's peak, which includes making the frames from the photo.
        var benchPeakResidentMB: Double
        /// Minor page faults (getrusage) per timed capture in this process, median: each one a
        /// fresh page the kernel zeroed.
        var minorFaultsPerCapture: Double
        /// The fusion network alone (the `fuse` stage also holds the classical base it adds to
        /// and the upsampled masks), its arithmetic rate, and oneDNN's best single 3×3
        /// convolution on this machine.
        var networkMs: Summary?
        var networkGFLOPS: Double?
        /// How the network ran (`FusionPrecision`: `int8` where the CPU has VNNI and the model
        /// carries activation ranges), and where it ran in 8 bits, the same all in floats, timed
        /// in turn with it.
        var networkPrecision: String?
        var networkFloat32Ms: Summary?
        var bestConvolution: String?
        var bestConvolutionGFLOPS: Double?
        /// oneDNN's implementation of each convolution and pooling of one tile, in order.
        var networkImplementations: [String]?
        var spoolToPublishedMs: Summary?
        var daemonPeakResidentMB: Double?
        /// The daemon's minor page faults for each warm-up pair (the first faults its working set
        /// in), then per timed pair: median and most.
        var daemonWarmUpMinorFaults: [Double]?
        var daemonMinorFaultsPerPair: Double?
        var daemonMinorFaultsPerPairMax: Double?
        /// A burst of pairs dropped at once: seconds until the last is published, and its rate
        /// against one pair at a time (1 / the median spool-to-published time).
        var burstPairs: Int?
        var burstSeconds: Double?
        var burstOverSingle: Double?
    }

    struct Summary: Codable {
        var median, min, max: Double
        init(_ values: [Double]) {
            (median, min, max) = (HybridZoom.median(values), values.min() ?? 0, values.max() ?? 0)
        }
    }

    func run() throws {
        let frames = try makeFrames()
        let config = try DaemonConfig.parse("rig: {zoom_ratio: \(ratio)}", relativeTo: "/")
        let fusion = try FusionStage(config.fusion)
        let pipeline = config.pipeline(fusion)
        func capture() throws -> EncodedCapture {
            try CaptureFiles.process(wide: frames.wide, tele: frames.tele, pipeline: pipeline, config: config)
        }
        _ = try capture()  // warm-up: page faults, thread pool
        var timings: [StageTimings] = [], floors: [Double] = [], faults: [Double] = []
        for _ in 0..<runs {  // interleaved, so both see the same machine load
            let faultsBefore = minorFaults()
            timings.append(try capture().timings)
            faults.append(Double(minorFaults() - faultsBefore))
            floors.append(try floor(frames))
        }
        // Each stage followed by its parts (`stage.part`), then the total.
        let names = timings[0].names, topLevel = timings[0].stages
        let order = topLevel.flatMap { stage in [stage] + names.filter { $0.hasPrefix(stage + ".") } } + ["total"]
        let stages = order.map { name in Summary(timings.map { name == "total" ? $0.total : $0[named: name] }) }
        let total = Summary(timings.map(\.total)), floorSummary = Summary(floors)
        var report = Report(
            frameSize: size, runs: runs, cpuModel: cpuModel(), cores: ProcessInfo.processInfo.activeProcessorCount,
            glibcTunables: ProcessInfo.processInfo.environment["GLIBC_TUNABLES"], stageOrder: order,
            stagesMs: Dictionary(uniqueKeysWithValues: zip(order, stages)),
            floorMs: floorSummary, totalOverFloor: total.median / floorSummary.median,
            benchPeakResidentMB: peakResidentMegabytes(), minorFaultsPerCapture: HybridZoom.median(faults))
        if let network = fusion.network?.network {
            let frameSize = try Size(simulatedFrame: size)
            let rendered = try CaptureFiles.process(wide: frames.wide, tele: frames.tele, pipeline: pipeline, intake: config.intake)
            guard let alignment = rendered.alignment else { throw ValidationError("the bench capture was not aligned") }
            let inputs = FusionInputs(source: rendered.source!.y, alignment: alignment)
            // Each run is handed an Ỹ_ref of its own, copied before the clock starts, to write
            // over as the daemon's run does.
            func time(_ network: FusionNetwork) throws -> Double {
                let (width, height) = (inputs.reference.width, inputs.reference.height)
                let reference = Plane(width: width, height: height, pixels: inputs.reference.pixels.map { $0 })
                let own = FusionInputs(source: inputs.source, reference: consume reference, occlusion: inputs.occlusion)
                let start = ContinuousClock.now
                _ = try network.fuse(consume own)
                return (ContinuousClock.now - start).milliseconds
            }
            let float32 = network.precision == .float32 ? nil : network.running(at: .float32)
            var times: [Double] = [], float32Times: [Double] = []
            for _ in 0..<runs {  // in turn, so both see the same machine load
                times.append(try time(network))
                if let float32 { float32Times.append(try time(float32)) }
            }
            let networkMs = Summary(times)
            let best = try ConvolutionSpeed.best()
            report.networkMs = networkMs
            report.networkPrecision = network.precision.rawValue
            report.networkFloat32Ms = float32 == nil ? nil : Summary(float32Times)
            report.networkGFLOPS = FusionArchitecture.flops(for: frameSize) / (networkMs.median / 1000) / 1e9
            report.bestConvolution = "\(best.channels)→\(best.channels) at \(best.side)², \(best.implementation)"
            report.networkImplementations = try network.implementations()
            report.bestConvolutionGFLOPS = best.gflops
        }
        if let daemon {
            let measured = try DaemonBench(binary: daemon, frames: frames, ratio: ratio).run(warmUp: warmUp, times: runs, burst: burst)
            let single = Summary(measured.latenciesMs)
            report.spoolToPublishedMs = single
            report.daemonPeakResidentMB = measured.peakResidentMB
            report.daemonWarmUpMinorFaults = measured.warmUpMinorFaults
            let faults = Summary(measured.minorFaultsPerPair)
            (report.daemonMinorFaultsPerPair, report.daemonMinorFaultsPerPairMax) = (faults.median, faults.max)
            if burst > 0 {  // a burst of none has no rate, rather than NaN
                (report.burstPairs, report.burstSeconds) = (burst, measured.burstSeconds)
                report.burstOverSingle = Double(burst) / measured.burstSeconds / (1000 / single.median)
            }
        }
        print(table(report))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
    }

    /// Decoding both frames (in parallel, as the pipeline does) and encoding a frame-sized output
    /// from floats, as the pipeline encodes (the output's conversion to floats is not timed).
    private func floor(_ frames: (wide: [UInt8], tele: [UInt8])) throws -> Double {
        let start = ContinuousClock.now
        let decoded = try [frames.wide, frames.tele].concurrentMap { try decodeJPEG($0, maxPixels: 200_000_000) }
        let decoding = ContinuousClock.now - start
        let output = decoded[1].image.floats
        let encodingStart = ContinuousClock.now
        _ = try encodeJPEG(output, quality: 92, exifPayload: nil)
        return (decoding + (ContinuousClock.now - encodingStart)).milliseconds
    }

    private func makeFrames() throws -> (wide: [UInt8], tele: [UInt8]) {
        let frameSize = try Size(simulatedFrame: size)
        let source = try decodePhoto(photo)
        // The classic simulator's capture: the same frames as every earlier benchmark, so times compare.
        let parameters = RigParameters.draw(
            seed: 1, frameSize: frameSize, zoomRatio: ratio,
            exposure: .automatic(sceneEV100: 12), ranges: .classic)
        let capture = RigSimulation(photo: source, parameters: parameters).capture(at: Date())
        return (
            try encodeJPEG(capture.wide, quality: 92, exifPayload: capture.wideEXIF.app1Payload()),
            try encodeJPEG(capture.tele, quality: 92, exifPayload: capture.teleEXIF.app1Payload())
        )
    }

    private func table(_ report: Report) -> String {
        var lines = [
            "hzsr bench: \(report.frameSize) W + T, \(report.runs) runs, \(report.cpuModel), \(report.cores) cores, "
                + (report.glibcTunables.map { "GLIBC_TUNABLES=\($0)" } ?? "GLIBC_TUNABLES unset"),
            "stage                   median      min      max",
        ]
        func row(_ name: String, _ s: Summary) -> String {
            name.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%9.1f %8.1f %8.1f ms", s.median, s.min, s.max)
        }
        for stage in report.stageOrder {
            let name = stage.split(separator: ".").count > 1 ? "  " + stage.split(separator: ".").last! : stage
            lines.append(row(name, report.stagesMs[stage]!))
        }
        lines.append(row("floor (JPEG only)", report.floorMs))
        lines.append(String(format: "total / floor       %9.2f", report.totalOverFloor))
        if let networkMs = report.networkMs, let network = report.networkGFLOPS, let best = report.bestConvolutionGFLOPS,
            let convolution = report.bestConvolution
        {
            lines.append(row("network alone (\(report.networkPrecision ?? "?"))", networkMs))
            if let float32 = report.networkFloat32Ms { lines.append(row("network in float32", float32)) }
            lines.append(
                String(
                    format: "fusion network %.0f GFLOP/s; oneDNN's best 3×3 convolution here (%@) %.0f GFLOP/s",
                    network, convolution, best))
        }
        if let names = report.networkImplementations {
            lines.append("oneDNN per tile: " + implementationCounts(names))
        }
        lines.append(String(format: "minor page faults per capture %.0f (this process)", report.minorFaultsPerCapture))
        if let e2e = report.spoolToPublishedMs { lines.append(row("spool → published", e2e)) }
        if let peak = report.daemonPeakResidentMB { lines.append(String(format: "daemon peak resident memory %.0f MB", peak)) }
        if let warmUp = report.daemonWarmUpMinorFaults, !warmUp.isEmpty {
            lines.append(
                "daemon minor page faults in its first pairs (not timed): " + warmUp.map { String(format: "%.0f", $0) }.joined(separator: ", "))
        }
        if let faults = report.daemonMinorFaultsPerPair, let most = report.daemonMinorFaultsPerPairMax {
            lines.append(String(format: "daemon minor page faults per timed pair %.0f (most %.0f)", faults, most))
        }
        if let pairs = report.burstPairs, let seconds = report.burstSeconds, let ratio = report.burstOverSingle {
            lines.append(String(format: "burst of %d pairs published in %.1f s: %.2f × one pair at a time", pairs, seconds, ratio))
        }
        lines.append(String(format: "bench process peak resident memory %.0f MB (includes making the frames)", report.benchPeakResidentMB))
        return lines.joined(separator: "\n")
    }
}

/// `model name` of the first CPU in /proc/cpuinfo.
func cpuModel() -> String {
    let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let line = info.split(separator: "\n").first { $0.hasPrefix("model name") }
    return line.flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
}

/// This process's minor page faults so far.
func minorFaults() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_minflt
}

func peakResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // Linux reports kilobytes
}

/// `brg:avx2 ×11, jit:avx ×4`: each implementation once, in order of first use, with its count.
func implementationCounts(_ names: [String]) -> String {
    var order: [String] = [], counts: [String: Int] = [:]
    for name in names {
        if counts[name] == nil { order.append(name) }
        counts[name, default: 0] += 1
    }
    return order.map { "\($0) ×\(counts[$0]!)" }.joined(separator: ", ")
}
