import Foundation
import HZSpool
import HZTestSupport
import XCTest

final class DaemonMetricsTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("hzsr-metrics-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    /// Each event lands in its family with its labels, the live gauges in the file as written,
    /// and every family has its HELP and TYPE lines.
    func testEventsAndLiveCountsAreWrittenWithHelpAndType() throws {
        let metrics = DaemonMetrics(file: "\(folder)/hzsrd.prom", version: "9.9.9", model: "0123456789abcdef")
        metrics.published(try record(decision: "fused", coverage: 0.62, ev100: 11.5, latencyMs: 900))
        metrics.published(try record(decision: "skipped: low light", coverage: 0, ev100: 2, latencyMs: 300))
        metrics.published(try record(decision: "skipped: low light", coverage: 0, ev100: 2.5, latencyMs: 300))
        metrics.setAside(.brokenFrame)
        metrics.setAside(.noPartner)
        metrics.failed()
        var live = DaemonMetrics.Live()
        (live.queued, live.inFlight, live.waitingFrames, live.oldestWaitingAge) = (3, 1, 2, 7.5)
        try metrics.write(live)

        let text = try String(contentsOfFile: "\(folder)/hzsrd.prom", encoding: .utf8)
        let mode = try FileManager.default.attributesOfItem(atPath: "\(folder)/hzsrd.prom")[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o644, "node-exporter, a user of its own, reads it whatever the daemon's umask")
        let samples = Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
        for sample in [
            #"hzsr_pairs_total{decision="fused",reason=""} 1"#, #"hzsr_pairs_total{decision="skipped",reason="low light"} 2"#,
            #"hzsr_files_quarantined_total{reason="broken frame"} 1"#, #"hzsr_files_orphaned_total{reason="no partner"} 1"#,
            "hzsr_errors_total 1", "hzsr_queue_depth 3.0", "hzsr_pairs_in_flight 1.0", "hzsr_frames_waiting 2.0",
            "hzsr_oldest_waiting_frame_age_seconds 7.5", "hzsr_blend_coverage 0.62", #"hzsr_last_ev100{camera="W"} 2.5"#,
            #"hzsr_build_info{version="9.9.9",model="0123456789abcdef"} 1.0"#, "hzsr_pair_latency_seconds_count 3",
            #"hzsr_pair_latency_seconds_bucket{le="0.5"} 2"#, #"hzsr_stage_seconds_count{stage="decode"} 3"#,
            "hzsr_last_published_timestamp_seconds 1795942400.0",
        ] {
            XCTAssertTrue(samples.contains(sample), "\(sample) not in\n\(text)")
        }
        let families = Set(samples.map { String($0.prefix { $0 != "{" && $0 != " " }) }).map {
            $0.replacingOccurrences(of: "_bucket", with: "").replacingOccurrences(of: "_count", with: "").replacingOccurrences(of: "_sum", with: "")
        }
        for family in families {
            XCTAssertTrue(text.contains("# HELP \(family) "), "\(family) has no HELP")
            XCTAssertTrue(text.contains("# TYPE \(family) "), "\(family) has no TYPE")
        }
    }

    /// A reload that loads another model: the build info names the new one, and only it.
    func testTheBuildInfoFollowsTheModel() throws {
        let metrics = DaemonMetrics(file: "\(folder)/hzsrd.prom", version: "9.9.9", model: "aaaa")
        metrics.useModel("bbbb")
        try metrics.write(DaemonMetrics.Live())
        let text = try String(contentsOfFile: "\(folder)/hzsrd.prom", encoding: .utf8)
        XCTAssertTrue(text.contains(#"hzsr_build_info{version="9.9.9",model="bbbb"} 1.0"#), text)
        XCTAssertFalse(text.contains("aaaa"), text)
    }

    /// A restart continues the counters and the last publication from the file; histograms and
    /// live gauges start anew, and a line the daemon did not write is ignored.
    func testCountersContinueFromThePreviousRunsFile() throws {
        let file = "\(folder)/hzsrd.prom"
        let first = DaemonMetrics(file: file, version: "1", model: "a")
        first.published(try record(decision: "fused", coverage: 0.5, ev100: 10, latencyMs: 500))
        first.setAside(.poisonPair)
        try first.write(DaemonMetrics.Live())
        // Lines it did not write: an escape, NaN, and series whose label names are not their
        // family's (which would make the metrics library trap at every start).
        let foreign = [
            "hzsr_errors_total{reason=\"x\\\"y\"} 5", "hzsr_errors_total NaN", "hzsr_errors_total{rig=\"a\"} 4", "hzsr_pairs_total 3",
            "hzsr_files_quarantined_total{decision=\"x\"} 2", "hzsr_pairs_total{reason=\"\",decision=\"fused\"} 7",
        ]
        try (String(contentsOfFile: file, encoding: .utf8) + foreign.joined(separator: "\n") + "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)

        let second = DaemonMetrics(file: file, version: "1", model: "a")
        second.published(try record(decision: "fused", coverage: 0.5, ev100: 10, latencyMs: 500))
        try second.write(DaemonMetrics.Live())
        let text = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertTrue(text.contains(#"hzsr_pairs_total{decision="fused",reason=""} 2"# + "\n"), text)
        XCTAssertTrue(text.contains(#"hzsr_files_quarantined_total{reason="poison pair"} 1"#), text)
        XCTAssertTrue(text.contains("hzsr_pair_latency_seconds_count 1"), text)
        XCTAssertTrue(text.contains("hzsr_last_published_timestamp_seconds 1795942400.0"), text)
        XCTAssertTrue(text.contains("\nhzsr_errors_total 0\n"), "the lines it did not write are ignored: \(text)")
    }

    /// A sidecar as the worker writes it, published at Unix time 1 795 942 400.
    private func record(decision: String, coverage: Double, ev100: Double, latencyMs: Double) throws -> PairRecord {
        let path = "\(folder)/record.json"
        try TestSidecar.json(decision: decision, coverage: coverage, ev100: ev100, latencyMs: latencyMs)
            .write(toFile: path, atomically: true, encoding: .utf8)
        return try Publisher.readRecord(at: path)
    }
}
