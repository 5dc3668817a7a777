import Foundation
import HZTestSupport
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The metrics file as Prometheus gets it: through a real node-exporter's textfile collector.
final class MetricsTests: XCTestCase {
    /// While the daemon publishes a pair skipped for low light and quarantines a broken file,
    /// node-exporter serves every hzsr family the file has, with the counts, and no scrape
    /// error; `promtool check metrics` accepts the file.
    func testNodeExporterServesEveryMetricWhilePairsAreProcessed() throws {
        for tool in ["/usr/bin/prometheus-node-exporter", "/usr/bin/promtool"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("\(tool) is missing (make test installs it)")
        }
        let daemon = try DaemonHarness(
            config: "fusion: {method: classical}\nintake: {settle_time: 0.2}\ngate: {min_ev100: 13}\nmetrics: {textfile: hzsrd.prom}\n")
        let file = "\(daemon.scratch.path)/hzsrd.prom"
        let pair = try TestFrames.simulatedPair(time: Date(timeIntervalSince1970: 1_790_000_000))  // EV100 12: low light
        try daemon.scratch.write(pair.wide, to: "spool/W/dusk.jpg")
        try daemon.scratch.write(pair.tele, to: "spool/T/dusk.jpg")
        try daemon.scratch.write(Array("not a JPEG at all".utf8), to: "spool/W/broken.jpg")
        XCTAssertTrue(
            daemon.eventually(timeout: 20) {
                let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
                return text.contains(#"hzsr_pairs_total{decision="skipped",reason="low light"} 1"#)
                    && text.contains(#"hzsr_files_quarantined_total{reason="unusable frame"} 1"#)
            }, (try? String(contentsOfFile: file, encoding: .utf8)) ?? "no file")

        let exporter = try NodeExporter(textfiles: daemon.scratch.path)
        defer { exporter.stop() }
        let served = try exporter.scrape()
        let written = try String(contentsOfFile: file, encoding: .utf8)
        let families = written.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        XCTAssertEqual(
            Set(families),
            [
                "hzsr_pairs_total", "hzsr_files_quarantined_total", "hzsr_files_orphaned_total", "hzsr_errors_total",
                "hzsr_queue_depth", "hzsr_pairs_in_flight", "hzsr_frames_waiting", "hzsr_oldest_waiting_frame_age_seconds",
                "hzsr_last_published_timestamp_seconds", "hzsr_pair_latency_seconds", "hzsr_stage_seconds", "hzsr_last_ev100",
                "hzsr_build_info",
            ], "a skipped pair has no blend coverage")
        for family in families {
            XCTAssertTrue(served.contains("# TYPE \(family) "), "\(family) is not served")
        }
        for sample in [
            #"hzsr_pairs_total{decision="skipped",reason="low light"} 1"#, #"hzsr_files_quarantined_total{reason="unusable frame"} 1"#,
            #"hzsr_pairs_total{decision="fused",reason=""} 0"#, "hzsr_pair_latency_seconds_count 1", #"hzsr_last_ev100{camera="W"} 12"#,
            "node_textfile_scrape_error 0",
        ] {
            XCTAssertTrue(served.contains(sample), "\(sample) is not served:\n\(served)")
        }
        let check = try run("/usr/bin/promtool", ["check", "metrics"], input: Data(written.utf8))
        XCTAssertEqual(check.status, 0, check.output)
    }

    /// The shipped alerting rules load, and fire where their tests say (and nowhere else).
    func testAlertRulesLoadAndPassTheirTests() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") else {
            throw XCTSkip("/usr/bin/promtool is missing (make test installs it)")
        }
        let folder = DaemonHarness.repositoryRoot.appendingPathComponent("Deploy/prometheus")
        let check = try run("/usr/bin/promtool", ["check", "rules", folder.appendingPathComponent("hzsrd.rules.yml").path], input: Data())
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("SUCCESS: 4 rules found"), check.output)
        let tests = try run("/usr/bin/promtool", ["test", "rules", folder.appendingPathComponent("hzsrd.rules.test.yml").path], input: Data())
        XCTAssertEqual(tests.status, 0, tests.output)
    }

    private func run(_ tool: String, _ arguments: [String], input: Data) throws -> (status: Int32, output: String) {
        let process = Process(), stdin = Pipe(), output = Pipe()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        (process.standardInput, process.standardOutput, process.standardError) = (stdin, output, output)
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}

/// Debian's prometheus-node-exporter with only the textfile collector, on a free loopback port.
private final class NodeExporter {
    private let process = Process()
    private let port: Int

    init(textfiles folder: String) throws {
        port = Int.random(in: 20000..<60000)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-node-exporter")
        process.arguments = [
            "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults", "--collector.textfile",
            "--collector.textfile.directory=\(folder)",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// `/metrics`, once node-exporter answers (it may take a moment to listen).
    func scrape() throws -> String {
        for _ in 0..<100 {
            if let text = fetch() { return text }
            XCTAssertTrue(process.isRunning, "node-exporter exited (port \(port) taken?)")
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw XCTSkip("node-exporter did not answer on 127.0.0.1:\(port)")
    }

    private func fetch() -> String? {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var body: String?
        URLSession.shared.dataTask(with: URL(string: "http://127.0.0.1:\(port)/metrics")!) { data, response, _ in
            if (response as? HTTPURLResponse)?.statusCode == 200, let data { body = String(decoding: data, as: UTF8.self) }
            done.signal()
        }.resume()
        done.wait()
        return body
    }
}
