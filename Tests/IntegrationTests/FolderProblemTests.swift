import Foundation
import HZSpool
import HZSystemd
import HZTestSupport
import XCTest

/// The real daemon on folders it cannot use: at start it exits at once with a sysexits status and
/// a message naming the key, the path, the user and the problem (on stderr and in the journal);
/// while running it reports the problem, waits without spinning, and recovers.
final class FolderProblemTests: XCTestCase {
    private var scratch: ScratchFolder!

    override func setUpWithError() throws {
        scratch = try ScratchFolder("hzsrd-folders")
        // Other users must reach the config and the folders the tests lock.
        XCTAssertEqual(chmod(scratch.path, 0o755), 0)
    }

    func testASpoolBelowARegularFileCannotBeCreated() throws {
        try scratch.write([], to: "afile")
        try assertRefused(
            spool: "afile/deeper/spool", status: 73,
            "paths.spool: \(scratch.path)/afile/deeper/spool: \(scratch.path)/afile is not a folder")
    }

    /// A folder on a disk that is not mounted, through a link: missing, not a permission problem.
    func testASpoolBelowADanglingLinkIsNamedAsSuch() throws {
        let target = "/nonexistent-\(UUID().uuidString.prefix(6))/dir"
        try FileManager.default.createSymbolicLink(atPath: "\(scratch.path)/data", withDestinationPath: target)
        try assertRefused(
            spool: "data/spool", status: 73,
            "paths.spool: \(scratch.path)/data/spool: cannot create it: \(scratch.path)/data is a link to \(target), which does not exist")
    }

    func testASpoolThatIsARegularFileIsRefused() throws {
        try scratch.write([], to: "spool")
        try assertRefused(spool: "spool", status: 73, "paths.spool: \(scratch.path)/spool: not a folder")
    }

    func testASpoolTheUserCannotCreateIsRefused() throws {
        try assertRefused(
            spool: "/nonexistent-\(UUID().uuidString.prefix(6))/deeper/spool", as: "nobody", status: 77,
            "cannot create it: permission denied for user nobody in / (owner root, mode 0755)")
    }

    func testAFolderTheUserCannotReadIsRefused() throws {
        try FileManager.default.createDirectory(atPath: "\(scratch.path)/spool", withIntermediateDirectories: true)
        XCTAssertEqual(chmod("\(scratch.path)/spool", 0o700), 0)
        try assertRefused(
            spool: "spool", as: "nobody", status: 77,
            "paths.spool: \(scratch.path)/spool: permission denied for user nobody (owner root, mode 0700)")
    }

    func testRelativeFoldersUnderAParentTheUserCannotTraverseAreRefused() throws {
        try FileManager.default.createDirectory(atPath: "\(scratch.path)/locked/state", withIntermediateDirectories: true)
        XCTAssertEqual(chmod("\(scratch.path)/locked", 0o700), 0)
        try assertRefused(
            spool: "locked/state/spool", as: "nobody", status: 77,
            "paths.spool: \(scratch.path)/locked/state/spool: permission denied for user nobody: "
                + "cannot search \(scratch.path)/locked (owner root, mode 0700)")
    }

    func testFoldersInputsMoveBetweenMustShareTheSpoolsFileSystem() throws {
        let elsewhere = try otherFileSystemFolder()
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        try assertRefused(
            config: "paths: {work: \(elsewhere)}\n", status: 78,
            "paths.work: \(elsewhere): on another file system than paths.spool (\(scratch.path)/spool); "
                + "inputs move between them by rename")
    }

    /// Images are written and renamed within the output folder, and nothing moves there from
    /// the spool: it may live on another file system.
    func testTheOutputFolderMayLiveOnAnotherFileSystem() throws {
        let elsewhere = try otherFileSystemFolder()
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        // A container's /dev/shm may hold less than intake.min_free_space_mb's default.
        let daemon = try DaemonHarness(config: "paths: {output: \(elsewhere)}\nintake: {min_free_space_mb: 1}\n")
        let moment = Date()
        try daemon.scratch.write(try TestFrames.jpeg(time: moment), to: "spool/W/a.jpg")
        try daemon.scratch.write(try TestFrames.jpeg(time: moment, seed: 2), to: "spool/T/a.jpg")
        XCTAssertTrue(
            daemon.eventually {
                (FileManager.default.enumerator(atPath: elsewhere)?.allObjects as? [String] ?? []).contains { $0.hasSuffix(".json") }
            })
    }

    func testCheckConfigReportsTheSameWithoutChangingAnything() throws {
        try scratch.write([], to: "spool")
        try "".write(toFile: "\(scratch.path)/hzsrd.yaml", atomically: true, encoding: .utf8)
        let run = try runDaemon(["--check-config", "--config", "\(scratch.path)/hzsrd.yaml"])
        XCTAssertEqual(run.status, 73)
        XCTAssertEqual(run.output, "\(scratch.path)/hzsrd.yaml: paths.spool: \(scratch.path)/spool: not a folder\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(scratch.path)/work"), "nothing created")

        try FileManager.default.removeItem(atPath: "\(scratch.path)/spool")
        let fine = try runDaemon(["--check-config", "--config", "\(scratch.path)/hzsrd.yaml"])
        XCTAssertEqual(fine.status, 0)
        XCTAssertEqual(fine.output, "ok\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(scratch.path)/spool"), "a missing folder that can be made is fine, and not made")
    }

    /// The shipped config passes; a config with an unknown key, a bad value and a model that is
    /// not there fails with 78, naming all three (key and line) in one run.
    func testCheckConfigNamesEveryProblemAtOnce() throws {
        let shipped = DaemonHarness.repositoryRoot.appendingPathComponent("Config/hzsrd.yaml").path
        let fine = try runDaemon(["--check-config", "--config", shipped])
        XCTAssertEqual(fine.status, 0, fine.output)
        XCTAssertEqual(fine.output, "ok\n")

        let config = "\(scratch.path)/broken.yaml"
        try "pairing:\n  tolerance: soon\nintake:\n  setle_time: 2\nfusion:\n  model: missing.safetensors\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let broken = try runDaemon(["--check-config", "--config", config])
        XCTAssertEqual(broken.status, 78)
        let lines = broken.output.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, broken.output)
        for (line, expected) in zip(
            lines, ["pairing.tolerance (line 2): must be a number", "intake.setle_time (line 4): unknown key", "fusion.model: "])
        {
            XCTAssertTrue(line.hasPrefix("\(config): \(expected)"), "\(line)")
        }
        XCTAssertTrue(lines.last?.contains("\(scratch.path)/missing.safetensors") ?? false, broken.output)
    }

    /// Removed while running: an error entry, a `STATUS=` line naming it, no spinning, and the
    /// next pair published once it is back, without a restart. SIGINT stops it in that state.
    func testASpoolRemovedWhileRunningIsReportedAndWatchedAgainWhenItComesBack() throws {
        reportChaos("spool removed and recreated") { "reported, watched again without a restart, the next pair published" }
        let daemon = try DaemonHarness(config: "")
        let spool = "\(daemon.scratch.path)/spool"
        let cpuBefore = try cpuSeconds(daemon.process.processIdentifier)
        try FileManager.default.removeItem(atPath: spool)
        let removed = try JournalReader.entries(matching: ["MESSAGE_ID=5f667256390d4f799fdaf745db0bd8c8", "HZ_FILE=\(spool)"])
        XCTAssertEqual(removed.first?["HZ_REASON"], "removed", "\(removed)")
        XCTAssertTrue(
            daemon.eventually { daemon.notifications.messages.contains { $0.contains("STATUS=paths.spool: \(spool): removed") } },
            "\(daemon.notifications.messages)")
        Thread.sleep(forTimeInterval: 3)
        let cpu = try cpuSeconds(daemon.process.processIdentifier) - cpuBefore
        XCTAssertLessThan(cpu, 0.05 * 3.5, "under 5 % of a core while waiting")

        let moment = Date()
        try daemon.scratch.write(try TestFrames.jpeg(time: moment), to: "spool/W/back.jpg")
        try daemon.scratch.write(try TestFrames.jpeg(time: moment, seed: 2), to: "spool/T/back.jpg")
        XCTAssertTrue(daemon.eventually { daemon.sidecars.count == 1 }, "published without a restart")
        XCTAssertNotNil(try JournalReader.entry(matching: "HZ_FILE=\(spool)", timeout: .seconds(1)))
        let back = try JournalReader.entries(matching: ["MESSAGE_ID=2befa31a3b324460b2aef2f52ae45443", "HZ_FILE=\(spool)"])
        XCTAssertTrue(back.first?["MESSAGE"]?.contains("watching it again") ?? false, "\(back)")
        XCTAssertTrue(daemon.eventually { daemon.notifications.messages.last { $0.contains("STATUS=") }?.contains("removed") == false })

        try FileManager.default.removeItem(atPath: spool)
        XCTAssertTrue(daemon.eventually { daemon.notifications.messages.last { $0.contains("STATUS=") }?.contains("removed") == true })
        let start = Date()
        daemon.signal(SIGINT)
        daemon.process.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(start), 2 * DaemonHarness.timeScale)
        XCTAssertEqual(daemon.process.terminationStatus, 0)
    }

    /// A second daemon on folders another one is using would claim the same pairs: it exits
    /// with 75 (EX_TEMPFAIL), naming the lock and the pid of the one that holds it.
    func testASecondDaemonOnTheSameFoldersRefusesToStart() throws {
        try scratch.write([], to: "work/.keep")
        let lock = try SpoolLock(work: "\(scratch.path)/work")
        try assertRefused(
            config: "", status: 75, "\(scratch.path)/work/.hzsrd.lock: another hzsrd (pid \(getpid())) is using these folders")
        withExtendedLifetime(lock) {}
    }

    /// Idle with an empty spool: next to no CPU, and SIGTERM stops it at once.
    func testAnIdleDaemonUsesNoCPUAndStopsPromptly() throws {
        let daemon = try DaemonHarness(config: "")
        let pid = daemon.process.processIdentifier
        let before = try cpuSeconds(pid)
        Thread.sleep(forTimeInterval: 30)
        let share = (try cpuSeconds(pid) - before) / 30
        XCTAssertLessThan(share, 0.01, "\(share * 100) % of a core while idle")
        let start = Date()
        daemon.signal(SIGTERM)
        daemon.process.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(start), 2 * DaemonHarness.timeScale)
        XCTAssertEqual(daemon.process.terminationStatus, 0)
    }

    // MARK: - Helpers

    /// Starts the daemon (as `user` when given) on a config with `spool`, and checks that it
    /// exits with `status` within 2 s, saying `message` on stderr and in the journal.
    private func assertRefused(
        spool: String? = nil, config: String? = nil, as user: String? = nil, status: Int32,
        _ message: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let text = config ?? "paths: {spool: '\(spool ?? "spool")'}\n"
        let configPath = "\(scratch.path)/hzsrd-\(UUID().uuidString.prefix(6)).yaml"
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(configPath, 0o644), 0)
        let start = Date()
        let run = try runDaemon(["--config", configPath], as: user)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2 * DaemonHarness.timeScale, "exits at once", file: file, line: line)
        XCTAssertEqual(run.status, status, run.errors, file: file, line: line)
        XCTAssertTrue(run.errors.contains(message), "stderr: \(run.errors)", file: file, line: line)
        let entries = try JournalReader.entries(matching: ["MESSAGE_ID=5f667256390d4f799fdaf745db0bd8c8", "HZ_CONFIG=\(configPath)"])
        XCTAssertTrue(entries.first?["MESSAGE"]?.contains(message) ?? false, "journal: \(entries)", file: file, line: line)
    }

    private func runDaemon(_ arguments: [String], as user: String? = nil) throws -> (status: Int32, output: String, errors: String) {
        if user != nil, geteuid() != 0 { throw XCTSkip("running the daemon as another user needs root") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: user == nil ? DaemonHarness.binary : "/usr/bin/setpriv")
        process.arguments = user.map { ["--reuid=\($0)", "--regid=nogroup", "--clear-groups", DaemonHarness.binary] + arguments } ?? arguments
        process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
        let output = Pipe(), errors = Pipe()
        (process.standardOutput, process.standardError) = (output, errors)
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text, problems)
    }

    /// A fresh folder in /dev/shm, a tmpfs, when the scratch folder is elsewhere.
    private func otherFileSystemFolder() throws -> String {
        var shm = stat(), here = stat()
        guard stat("/dev/shm", &shm) == 0, stat(scratch.path, &here) == 0, shm.st_dev != here.st_dev else {
            throw XCTSkip("needs /dev/shm on a file system of its own")
        }
        let folder = "/dev/shm/hzsrd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// User and system CPU time of a process, from /proc/PID/stat.
    private func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name (which may hold spaces) start at state, field 3.
        let fields = stat[stat.range(of: ")")!.upperBound...].split(separator: " ")
        let ticks = Double(fields[11])! + Double(fields[12])!  // utime and stime, fields 14 and 15
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
