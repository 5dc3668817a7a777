import Foundation
import HZTestSupport
import XCTest

/// The shipped unit files pass `systemd-analyze verify`, pointed at the built daemon (verify
/// insists that ExecStart's binary exists).
final class UnitFileTests: XCTestCase {
    func testUnitFilesVerify() throws {
        let scratch = try ScratchFolder("units")
        let units = DaemonHarness.repositoryRoot.appendingPathComponent("Systemd")
        for (unit, installedAs) in [("hzsrd.service", "hzsrd.service"), ("hzsrd@.service", "hzsrd@bench1.service")] {
            let text = try String(contentsOf: units.appendingPathComponent(unit), encoding: .utf8)
            try text.replacingOccurrences(of: "/usr/local/bin/hzsrd", with: DaemonHarness.binary)
                .write(toFile: "\(scratch.path)/\(installedAs)", atomically: true, encoding: .utf8)
            let (status, output) = run("/usr/bin/systemd-analyze", ["verify", "\(scratch.path)/\(installedAs)"])
            XCTAssertEqual(status, 0, "\(unit): \(output)")
            XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "", "\(unit) has warnings")
        }
    }

    func testHardeningRatesSafe() throws {
        let unit = DaemonHarness.repositoryRoot.appendingPathComponent("Systemd/hzsrd.service").path
        let (_, output) = run("/usr/bin/systemd-analyze", ["security", "--offline=true", "--threshold=20", unit])
        let exposure = try XCTUnwrap(output.split(separator: "\n").last { $0.contains("Overall exposure level") })
        let score = try XCTUnwrap(exposure.split(separator: " ").compactMap { Double($0) }.first)
        XCTAssertLessThanOrEqual(score, 2.0, String(exposure))
    }

    private func run(_ tool: String, _ arguments: [String]) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return (-1, "\(tool) did not start") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
