import Foundation
import HZSpool
import HZSystemd

/// Times a real hzsrd end to end: it runs in a scratch folder, hears from it on a notify socket
/// when its start-up scan is done, then drops pairs into its spool one at a time (W written in
/// place, T renamed in, as gphoto2 does) and waits for each sidecar to appear.
struct DaemonBench {
    let binary: String
    let frames: (wide: [UInt8], tele: [UInt8])
    let ratio: Double

    struct Result {
        var latenciesMs: [Double]
        /// The daemon's peak resident memory (VmHWM), after all runs.
        var peakResidentMB: Double
    }

    func run(times: Int) throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hzsr-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "rig: {zoom_ratio: \(ratio)}\n".write(toFile: "\(folder)/hzsrd.yaml", atomically: true, encoding: .utf8)

        let listener = try NotifyListener(path: "\(folder)/notify.sock")
        defer { listener.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--config", "\(folder)/hzsrd.yaml"]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": listener.path]) { $1 }
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        guard listener.waitFor("READY=1", timeout: 30) else { throw BenchError("\(binary) did not report READY=1 within 30 s") }

        let latencies = try (0..<times).map { index in
            let before = sidecars(below: "\(folder)/out")
            try WriteMode.inPlace.write(frames.wide, to: "\(folder)/spool/W/bench-\(index).jpg")
            try WriteMode.tempRename.write(frames.tele, to: "\(folder)/spool/T/bench-\(index).jpg")
            let landed = ContinuousClock.now
            while sidecars(below: "\(folder)/out") == before {
                guard ContinuousClock.now - landed < .seconds(60) else { throw BenchError("\(binary) published nothing within 60 s") }
                Thread.sleep(forTimeInterval: 0.002)
            }
            return (ContinuousClock.now - landed).milliseconds
        }
        return Result(latenciesMs: latencies, peakResidentMB: peakResidentMegabytes(of: process.processIdentifier))
    }

    /// VmHWM from /proc: the most memory the process has held resident.
    private func peakResidentMegabytes(of pid: Int32) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        let kilobytes = line?.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kilobytes / 1024
    }

    private func sidecars(below folder: String) -> Int {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String])?.filter { $0.hasSuffix(".json") }.count ?? 0
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
