import Foundation
import HZSpool
import HZSystemd

/// Times a real hzsrd end to end: it runs in a scratch folder, hears from it on a notify socket
/// when its start-up scan is done, then drops pairs into its spool one at a time (W written in
/// place, T renamed in, as gphoto2 does) and waits for each sidecar to appear; then drops a
/// burst of pairs at once and times them all.
///
/// The first pairs are not timed: the first faults the daemon's working set in, and the heap
/// keeps growing for a pair or two more while the freed planes settle into the holes they are
/// reused from (from then on a pair costs no fresh pages). Their page faults are reported apart.
struct DaemonBench {
    let binary: String
    let frames: (wide: [UInt8], tele: [UInt8])
    let ratio: Double

    struct Result {
        var latenciesMs: [Double]
        /// The daemon's peak resident memory (VmHWM), after all runs.
        var peakResidentMB: Double
        /// The daemon's minor page faults for each warm-up pair, then for each timed one.
        var warmUpMinorFaults: [Double]
        var minorFaultsPerPair: [Double]
        var burstSeconds: Double
    }

    func run(warmUp: Int, times: Int, burst: Int) throws -> Result {
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

        let pid = process.processIdentifier
        var faults: [Double] = []
        let latencies = try (0..<warmUp + times).map { index in
            let faultsBefore = minorFaults(of: pid)
            let landed = try drop(pairs: index..<index + 1, into: folder)
            faults.append(Double(minorFaults(of: pid) - faultsBefore))
            return (ContinuousClock.now - landed).milliseconds
        }
        let landed = try drop(pairs: warmUp + times..<warmUp + times + burst, into: folder)
        return Result(
            latenciesMs: Array(latencies.dropFirst(warmUp)), peakResidentMB: peakResidentMegabytes(of: pid),
            warmUpMinorFaults: Array(faults.prefix(warmUp)), minorFaultsPerPair: Array(faults.dropFirst(warmUp)),
            burstSeconds: (ContinuousClock.now - landed).milliseconds / 1000)
    }

    /// Writes the pairs numbered `pairs` into the spool at once and waits until each is
    /// published; returns when the last file landed.
    private func drop(pairs: Range<Int>, into folder: String) throws -> ContinuousClock.Instant {
        let before = sidecars(below: "\(folder)/out")
        for index in pairs {
            // The same frames each time: in a burst W and T pair up in any order, which times the same.
            try WriteMode.inPlace.write(frames.wide, to: "\(folder)/spool/W/bench-\(index).jpg")
            try WriteMode.tempRename.write(frames.tele, to: "\(folder)/spool/T/bench-\(index).jpg")
        }
        let landed = ContinuousClock.now
        while sidecars(below: "\(folder)/out") < before + pairs.count {
            guard ContinuousClock.now - landed < .seconds(60 * pairs.count) else {
                throw BenchError("\(binary) published \(sidecars(below: "\(folder)/out") - before) of \(pairs.count) pairs in time")
            }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return landed
    }

    /// Field 10 of /proc/<pid>/stat: the process's minor page faults so far.
    private func minorFaults(of pid: Int32) -> Int {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // The command name (field 2) may hold spaces; fields after it follow its closing parenthesis.
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        return fields.count > 7 ? Int(fields[7]) ?? 0 : 0
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
