import Foundation
import HZFusionNet
import HZSpool
import HZTestSupport
import HybridZoom
import XCTest

/// The reliability suite's checks that need scale: the daemon SIGKILLed at random moments while
/// pairs keep coming, inotify overflowing in bursts of new sub-folders, and a pair far over the
/// memory budget. `make test` runs them small; `make chaos` (`HZSR_CHAOS=full`) at full scale,
/// with the rest of the suite (bad input, a full disk, a lost spool, a poison pair), each check
/// printing one `chaos:` line with its counts.
final class ChaosTests: XCTestCase {
    private static let full = ProcessInfo.processInfo.environment["HZSR_CHAOS"] == "full"
    private let moment = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
    private let tag = String(UUID().uuidString.prefix(6))

    private func frame(_ offset: Double, seed: Int = 1) throws -> [UInt8] {
        try TestFrames.jpeg(Size(width: 160, height: 120), time: moment + offset, seed: seed)
    }

    /// Pairs arrive at a steady rate on another thread while the daemon is SIGKILLed at random
    /// moments and started again: every pair is published exactly once, and nothing is left in
    /// `work/`, the spool or as a temporary file.
    func testAKillStormLosesNoPairAndPublishesEachOnce() throws {
        let (pairs, kills) = Self.full ? (300, 20) : (30, 3)
        var (lost, duplicated, leftOver) = (pairs, 0, 0)
        reportChaos("kill storm") { "\(pairs) pairs, \(kills) SIGKILLs: lost \(lost), duplicated \(duplicated), left over \(leftOver)" }
        // Kills come faster than a debug build's first pair: that pair would be quarantined as a
        // poison pair (a check of its own), not published.
        let daemon = try DaemonHarness(config: "intake: {max_crashes_per_pair: 100}\n")
        let frames = try (0..<pairs).map { index in (try frame(Double(index)), try frame(Double(index) + 0.002, seed: 2)) }
        let written = DispatchSemaphore(value: 0)
        let interval = max(0.02, Double(kills) * 0.6 / Double(pairs))
        let spool = "\(daemon.scratch.path)/spool"
        for role in ["W", "T"] { try FileManager.default.createDirectory(atPath: "\(spool)/\(role)", withIntermediateDirectories: true) }
        DispatchQueue.global().async {
            for (index, pair) in frames.enumerated() {
                try? Data(pair.0).write(to: URL(fileURLWithPath: "\(spool)/W/storm\(index).jpg"))
                try? Data(pair.1).write(to: URL(fileURLWithPath: "\(spool)/T/storm\(index).jpg"))
                Thread.sleep(forTimeInterval: interval)
            }
            written.signal()
        }
        var random = SeededRandom(seed: 14)
        for _ in 0..<kills {
            Thread.sleep(forTimeInterval: 0.1 + 0.5 * Double(random.unit()))
            daemon.signal(SIGKILL)
            daemon.process.waitUntilExit()
            try daemon.start()
        }
        written.wait()
        daemon.eventually(timeout: 120) { daemon.sidecars.count >= pairs }
        Thread.sleep(forTimeInterval: 1)  // anything published twice would show by now

        let published = try daemon.sidecars.map { try Publisher.readRecord(at: "\(daemon.scratch.path)/out/\($0)").inputs[0].name }
        (lost, duplicated) = (pairs - Set(published).count, published.count - Set(published).count)
        let temporary = daemon.scratch.files(in: "out").filter { $0.hasSuffix(".tmp") }
        leftOver =
            daemon.inWork.count + daemon.scratch.files(in: "spool").count + temporary.count
            + daemon.scratch.files(in: "quarantine").count
        XCTAssertEqual(lost, 0)
        XCTAssertEqual(duplicated, 0)
        XCTAssertEqual(
            leftOver, 0,
            "work/: \(daemon.inWork), out/: \(temporary), spool/: \(daemon.scratch.files(in: "spool")), quarantine/: \(daemon.scratch.files(in: "quarantine"))"
        )
        XCTAssertTrue(daemon.process.isRunning)
    }

    /// Each run drops a burst of pairs, half in new sub-folders, while the daemon is stopped
    /// (SIGSTOP, as a daemon busy elsewhere) and its inotify queue holds 4 events: the queue
    /// overflows, and once it runs again the daemon watches every folder anew, rescans, and
    /// finds every pair, every run.
    func testInotifyOverflowInBurstsOfNewFoldersFindsEveryPair() throws {
        let (runs, folders) = (Self.full ? 20 : 2, 16)
        var (found, overflows) = (0, 0)
        reportChaos("inotify overflow") {
            "\(runs) runs of \(folders) pairs, half in new folders: every pair found in \(found) of \(runs), \(overflows) overflows"
        }
        // The limit is read whenever an inotify instance is made, and the daemon makes a new one
        // after each overflow: it stays low for the whole test.
        try withInotifyQueue(of: 4) {
            let daemon = try DaemonHarness(config: "")
            for run in 0..<runs {
                // Made first, then written as fast as the file system takes them.
                let pairs = try (0..<folders).map { folder in
                    let index = Double(run * folders + folder)
                    return (run * folders + folder, try frame(index), try frame(index + 0.002, seed: 2))
                }
                daemon.signal(SIGSTOP)  // a daemon busy elsewhere: the kernel queues the events
                for (index, wide, tele) in pairs {
                    let folder = index.isMultiple(of: 2) ? "burst-\(tag)-\(index)/" : ""
                    try daemon.scratch.write(wide, to: "spool/\(folder)f\(index)_W.jpg")
                    try daemon.scratch.write(tele, to: "spool/\(folder)f\(index)_T.jpg")
                }
                daemon.signal(SIGCONT)
                if daemon.eventually(timeout: 60, { daemon.sidecars.count == (run + 1) * folders }) { found += 1 }
            }
            overflows = try JournalReader.entries(matching: ["MESSAGE_ID=2befa31a3b324460b2aef2f52ae45443"])
                .filter { $0["MESSAGE"]?.contains("overflowed; watching \(daemon.scratch.path)/spool") ?? false }.count
            XCTAssertEqual(found, runs, "\(daemon.sidecars.count) published")
            XCTAssertGreaterThanOrEqual(overflows, runs, "each burst overflowed the queue, or the test proves nothing")
            XCTAssertEqual(daemon.scratch.files(in: "spool").filter { $0.hasSuffix(".jpg") }, [])
        }
    }

    /// A pair of 99 MP frames (headers that say so: intake reads the size from the frame header
    /// and the budget is checked before decoding) under a 1 GB budget: quarantined with the
    /// estimate as the reason, the daemon alive, the next pair published.
    func testAPairOverTheMemoryBudgetIsRefusedAndTheNextPublished() throws {
        var (refused, published) = (false, false)
        reportChaos("memory budget") { "11000×9000 pair under 1000 MB: refused \(refused), next pair published \(published)" }
        let daemon = try DaemonHarness(config: "intake: {memory_budget_mb: 1000}\n")
        try daemon.scratch.write(try JPEGDamage.claimingSize(11000, 9000, frame(0)), to: "spool/W/huge-\(tag).jpg")
        try daemon.scratch.write(try JPEGDamage.claimingSize(11000, 9000, frame(0.002, seed: 2)), to: "spool/T/huge-\(tag).jpg")
        try daemon.scratch.write(try frame(5), to: "spool/W/next-\(tag).jpg")
        try daemon.scratch.write(try frame(5.002, seed: 2), to: "spool/T/next-\(tag).jpg")
        published = daemon.eventually { daemon.sidecars.contains { $0.contains("next-\(tag)") } }
        let reason = try? String(contentsOfFile: "\(daemon.scratch.path)/quarantine/\(quarantinedPair(daemon)).reason", encoding: .utf8)
        // 1049 MB with the network's two workers on 2 cores; each more adds its own.
        let network = try FusionNetwork.shipped().workerMemory(for: Size(width: 11000, height: 9000), makesSource: true)
        let megabytes = (1049 << 20 + max(network.workers - 2, 0) * network.bytesEach) >> 20
        refused = reason == "W 11000×9000 and T 11000×9000 would take about \(megabytes) MB, above intake.memory_budget_mb (1000)\n"
        XCTAssertTrue(refused, String(describing: reason))
        XCTAssertTrue(published)
        XCTAssertTrue(daemon.process.isRunning)
    }

    private func quarantinedPair(_ daemon: DaemonHarness) -> String {
        (try? FileManager.default.contentsOfDirectory(atPath: "\(daemon.scratch.path)/quarantine"))?
            .first { $0.contains("huge-\(tag)") && !$0.hasSuffix(".reason") } ?? "none"
    }

    /// Runs `body` with inotify instances made meanwhile getting a queue of `events`; skips
    /// without the right to change the limit.
    private func withInotifyQueue<T>(of events: Int, _ body: () throws -> T) throws -> T {
        let setting = "/proc/sys/fs/inotify/max_queued_events"
        let saved = try String(contentsOfFile: setting, encoding: .utf8)
        guard (try? "\(events)\n".write(toFile: setting, atomically: false, encoding: .utf8)) != nil else {
            throw XCTSkip("needs the right to set \(setting)")
        }
        defer { try? saved.write(toFile: setting, atomically: false, encoding: .utf8) }
        return try body()
    }
}

extension XCTestCase {
    /// Prints this check's line of the reliability suite once the test ends (`make chaos`
    /// collects them): its counts as `counts` gives them then, and whether every assertion held.
    func reportChaos(_ check: String, _ counts: @escaping () -> String) {
        addTeardownBlock { [unowned self] in
            let held = testRun.map { $0.totalFailureCount == 0 } ?? false
            print("chaos: \(check): \(counts()): \(held ? "ok" : "FAILED")")
        }
    }
}
