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

    /// A config the daemon refuses ends it with a status the units do not start it again on
    /// (the config stays refused until someone edits it), and only that one.
    func testARefusedConfigIsNotStartedIntoAgain() throws {
        let scratch = try ScratchFolder("unit-refused")
        try "pairing: {tolerance: soon}\n".write(toFile: "\(scratch.path)/hzsrd.yaml", atomically: true, encoding: .utf8)
        let (status, output) = run(DaemonHarness.binary, ["--config", "\(scratch.path)/hzsrd.yaml"])
        XCTAssertEqual(status, 78, output)
        for unit in ["hzsrd.service", "hzsrd@.service"] {
            let text = try String(
                contentsOf: DaemonHarness.repositoryRoot.appendingPathComponent("Systemd/\(unit)"), encoding: .utf8)
            let prevented = text.split(separator: "\n").filter { $0.hasPrefix("RestartPreventExitStatus=") }
                .flatMap { $0.dropFirst("RestartPreventExitStatus=".count).split(separator: " ") }
            XCTAssertEqual(prevented, ["\(status)"], unit)
        }
    }

    func testHardeningRatesSafe() throws {
        for unit in ["hzsrd.service", "hzsrd@.service"] {
            let path = DaemonHarness.repositoryRoot.appendingPathComponent("Systemd/\(unit)").path
            let (_, output) = run("/usr/bin/systemd-analyze", ["security", "--offline=true", "--threshold=20", path])
            let exposure = try XCTUnwrap(output.split(separator: "\n").last { $0.contains("Overall exposure level") }, output)
            let score = try XCTUnwrap(exposure.split(separator: " ").compactMap { Double($0) }.first)
            XCTAssertLessThanOrEqual(score, 0.3, String(exposure))
        }
    }

    /// Each unit's memory protection leaves oneDNN room to write the network's kernels: a pair
    /// fuses under exactly the protection the unit asks for. MemoryDenyWriteExecute=yes is the
    /// kernel's PR_SET_MDWE, which Python applies to itself before becoming `hzsr fuse` (it
    /// survives execve); under it the fusion fails, which is why the units say no.
    func testTheUnitsMemoryProtectionLetsTheNetworkFuse() throws {
        let scratch = try ScratchFolder("unit-mdwe")
        let root = DaemonHarness.repositoryRoot
        let hzsr = DaemonHarness.program("hzsr")
        let photo = root.appendingPathComponent("Tests/HZImageIOTests/Fixtures/xiaomi-mi-a3.jpg").path
        let (made, log) = run(hzsr, ["simulate", photo, "--spool", "\(scratch.path)/spool", "--count", "1", "--rate", "50"])
        XCTAssertEqual(made, 0, log)
        let fuse = ["fuse", "\(scratch.path)/spool/W/IMG_0001.jpg", "\(scratch.path)/spool/T/IMG_0001.jpg", "-o", "\(scratch.path)/out.jpg"]
        let protect = "import ctypes, os, sys; assert ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) == 0; os.execv(sys.argv[1], sys.argv[1:])"
        func fused(denyingWriteExecute: Bool) -> (Int32, String) {
            denyingWriteExecute ? run("/usr/bin/python3", ["-c", protect, hzsr] + fuse) : run(hzsr, fuse)
        }
        for unit in ["hzsrd.service", "hzsrd@.service"] {
            let text = try String(contentsOf: root.appendingPathComponent("Systemd/\(unit)"), encoding: .utf8)
            let (status, output) = fused(denyingWriteExecute: text.split(separator: "\n").contains("MemoryDenyWriteExecute=yes"))
            XCTAssertEqual(status, 0, "\(unit): \(output)")
            XCTAssertTrue(output.contains("fused;"), "\(unit): \(output)")
        }
        let (status, output) = fused(denyingWriteExecute: true)
        XCTAssertNotEqual(status, 0, "oneDNN now runs under MemoryDenyWriteExecute=yes: the units could say yes again")
        XCTAssertTrue(output.contains("oneDNN"), output)
    }

    /// `systemctl reload` runs the unit's ExecReload lines in order and stops at the first that
    /// fails: with a broken config the check fails (78, naming the key) and no SIGHUP is sent;
    /// with a good one the daemon reloads.
    func testReloadChecksTheConfigBeforeSignalling() throws {
        let daemon = try DaemonHarness(config: "pairing: {tolerance: 0.05}\n")
        let unit = try String(
            contentsOf: DaemonHarness.repositoryRoot.appendingPathComponent("Systemd/hzsrd.service"), encoding: .utf8)
        let lines = unit.split(separator: "\n").filter { $0.hasPrefix("ExecReload=") }.map {
            $0.dropFirst("ExecReload=".count).replacingOccurrences(of: "/usr/local/bin/hzsrd", with: DaemonHarness.binary)
                .replacingOccurrences(of: "/etc/hzsr/hzsrd.yaml", with: daemon.configPath)
                .replacingOccurrences(of: "$MAINPID", with: "\(daemon.process.processIdentifier)")
        }
        XCTAssertEqual(lines.count, 2, unit)
        func reload() -> [(Int32, String)] {
            var results: [(Int32, String)] = []
            for line in lines {
                results.append(run("/bin/sh", ["-c", line]))
                if results.last!.0 != 0 { break }
            }
            return results
        }
        func entries(_ event: String) throws -> [[String: String]] {
            try JournalReader.entries(matching: ["MESSAGE_ID=\(event)", "HZ_CONFIG=\(daemon.configPath)"])
        }
        try "pairing: {tolerance: soon}\n".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let refused = reload()
        XCTAssertEqual(refused.map(\.0), [78], "\(refused)")
        XCTAssertTrue(refused.first?.1.contains("pairing.tolerance") ?? false, "\(refused)")
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(try entries("5f667256390d4f799fdaf745db0bd8c8"), [], "the daemon was sent the broken config")
        XCTAssertEqual(try entries("8bd93ce90d7249908c39513daeebbe3e"), [])

        try "pairing: {tolerance: 0.02}\n".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        XCTAssertEqual(reload().map(\.0), [0, 0])
        XCTAssertTrue(daemon.eventually { !((try? entries("8bd93ce90d7249908c39513daeebbe3e")) ?? []).isEmpty })
        XCTAssertTrue(daemon.process.isRunning)
    }

    /// `ProcSubset=pid` hides /proc's system files (cpuinfo, meminfo): a pair still fuses, the
    /// network included, under a /proc mounted that way (in a mount namespace of its own).
    func testAPairFusesWithOnlyProcessesFilesInProc() throws {
        let unit = try String(
            contentsOf: DaemonHarness.repositoryRoot.appendingPathComponent("Systemd/hzsrd.service"), encoding: .utf8)
        XCTAssertTrue(unit.contains("\nProcSubset=pid\n"))
        let scratch = try ScratchFolder("unit-proc")
        let fixtures = DaemonHarness.repositoryRoot.appendingPathComponent("Tests/IntegrationTests/Fixtures/decoder-crash").path
        let hzsr = DaemonHarness.program("hzsr")
        let script =
            "mount -t proc -o subset=pid proc /proc && test ! -e /proc/cpuinfo && "
            + "\(hzsr) fuse \(fixtures)/W-valid.jpg \(fixtures)/T.jpg -o \(scratch.path)/out.jpg"
        let (status, output) = run("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", script])
        if status != 0 && output.contains("unshare failed") { throw XCTSkip("needs the right to make a mount namespace: \(output)") }
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("fused;"), output)
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
