import Foundation
import HZImageIO
import HZSpool
import HZTestSupport
import HybridZoom
import XCTest

/// The real daemon process against a real journald and a real notify socket.
final class DaemonTests: XCTestCase {
    /// A capture time of its own for every test run, so journal queries never see old runs.
    private let moment = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
    private let tag = String(UUID().uuidString.prefix(6))

    private func frame(_ offset: Double, seed: Int = 1) throws -> [UInt8] {
        try TestFrames.jpeg(Size(width: 160, height: 120), time: moment + offset, seed: seed)
    }

    func testPairsPublishWhicheverWayTheyAreWrittenAndAreJournaled() throws {
        let daemon = try DaemonHarness(config: "")
        let spool = "\(daemon.scratch.path)/spool"
        // In place: written under the final name.
        try daemon.scratch.write(try frame(0), to: "spool/W/inplace-\(tag).jpg")
        try daemon.scratch.write(try frame(0.003, seed: 2), to: "spool/T/inplace-\(tag).jpg")
        // gphoto2: tmpfileXXXXXX renamed into place; rsync: .name.part renamed.
        for (index, staging) in ["tmpfile8f3k2a", ".renamed-\(tag).jpg.part"].enumerated() {
            for role in ["W", "T"] {
                try daemon.scratch.write(try frame(10 + Double(index)), to: "spool/\(role)/\(staging)")
                XCTAssertEqual(rename("\(spool)/\(role)/\(staging)", "\(spool)/\(role)/renamed\(index)-\(tag).jpg"), 0)
            }
        }
        // A name with spaces and unicode.
        try daemon.scratch.write(try frame(20), to: "spool/W/Grüße aus Köln \(tag) ☀.jpg")
        try daemon.scratch.write(try frame(20), to: "spool/T/Grüße aus Köln \(tag) ☀.jpg")

        XCTAssertTrue(daemon.eventually { daemon.sidecars.count == 4 }, "published: \(daemon.sidecars)")
        let names = daemon.sidecars.joined(separator: "\n")
        for stem in ["inplace-\(tag)", "renamed0-\(tag)", "renamed1-\(tag)", "Grüße aus Köln \(tag) ☀"] {
            XCTAssertTrue(names.contains(stem), "\(stem) not in \(names)")
        }
        XCTAssertEqual(daemon.scratch.files(in: "spool"), [])
        XCTAssertEqual(daemon.scratch.files(in: "archive").filter { $0.hasSuffix(".jpg") }.count, 8)

        let pair = try XCTUnwrap(daemon.sidecars.first { $0.contains("inplace") }.map { ($0 as NSString).lastPathComponent })
        let id = (pair as NSString).deletingPathExtension
        let entry = try XCTUnwrap(try JournalReader.entries(matching: ["HZ_PAIR=\(id)"]).first)
        // W and T here are different scenes: nothing to align, so W's digital zoom is published.
        XCTAssertEqual(entry["HZ_DECISION"], "skipped: alignment failed")
        XCTAssertTrue(entry["HZ_REASON"]?.hasPrefix("skipped: alignment failed (coarse alignment unreliable") ?? false, "\(entry)")
        XCTAssertNotNil(entry["HZ_NOISE_T"].flatMap(Double.init))
        XCTAssertNotNil(entry["HZ_LUMA_W"].flatMap(Double.init))
        XCTAssertEqual(entry["MESSAGE_ID"], "0cd3c01543cf4a069f9cf5ecc5ed85d7")
        XCTAssertEqual(entry["SYSLOG_IDENTIFIER"], "hzsrd")
        XCTAssertNotNil(entry["HZ_MS"].flatMap(Double.init))
        XCTAssertNotNil(entry["HZ_LATENCY_MS"].flatMap(Double.init))
        XCTAssertEqual(entry["HZ_W"], "W/inplace-\(tag).jpg")
        XCTAssertEqual(entry["HZ_DT_MS"], "3.0")
        XCTAssertEqual(entry["HZ_ZOOM"], "2.00")
        XCTAssertNil(entry["HZ_OTHER_OUTPUTS"], "one zoom, one image")

        XCTAssertTrue(
            daemon.eventually { daemon.notifications.messages.contains { $0.contains("STATUS=") && $0.contains("published 4") } },
            "\(daemon.notifications.messages)")
        daemon.signal(SIGTERM)
        daemon.process.waitUntilExit()
        XCTAssertEqual(daemon.process.terminationStatus, 0)
        XCTAssertEqual(daemon.notifications.messages.filter { $0 == "READY=1" }.count, 1)
        XCTAssertEqual(daemon.notifications.messages.last, "STOPPING=1")
        XCTAssertTrue(daemon.notifications.messages.contains { $0.hasPrefix("WATCHDOG=1") }, "pinged at half of WATCHDOG_USEC")
    }

    /// Every decision a capture can end in, each made by a config or a pair built for it: the
    /// sidecar's decision and reason and the journal's `HZ_DECISION` and `HZ_REASON` agree, and
    /// the reason starts with the decision.
    func testEveryDecisionKindIsTheSameInTheSidecarAndTheJournal() throws {
        let pair = try TestFrames.simulatedPair(time: moment)
        let unrelated = (wide: try frame(0), tele: try frame(0.002, seed: 2))
        let cases: [(CaptureDecision, config: String, pair: (wide: [UInt8], tele: [UInt8]))] = [
            (.fused, "fusion: {method: classical}\n", pair),
            (.skipped(.lowLight), "fusion: {method: classical}\ngate: {min_mean_luma: 0.99}\n", pair),
            (.skipped(.teleNoisier), "fusion: {method: classical}\ngate: {max_tele_noise_ratio: 0, noise_floor: 0}\n", pair),
            (.skipped(.alignmentFailed), "fusion: {method: classical}\n", unrelated),
            (.skipped(.fusionOff), "fusion: {method: 'off'}\n", pair),
        ]
        XCTAssertEqual(Set(cases.map(\.0)), Set(CaptureDecision.all), "every kind is tried")
        for (decision, config, pair) in cases {
            let daemon = try DaemonHarness(config: config)
            try daemon.scratch.write(pair.wide, to: "spool/W/kind-\(tag).jpg")
            try daemon.scratch.write(pair.tele, to: "spool/T/kind-\(tag).jpg")
            XCTAssertTrue(daemon.eventually { daemon.sidecars.count == 1 }, "\(decision): published")
            let record = try Publisher.readRecord(at: "\(daemon.scratch.path)/out/\(daemon.sidecars[0])")
            XCTAssertEqual(record.decision, decision)
            XCTAssertTrue(record.reason.hasPrefix(decision.description), "\(decision): \(record.reason)")
            let entry = try XCTUnwrap(
                try JournalReader.entries(matching: ["HZ_PAIR=\(record.pair)", "_PID=\(daemon.process.processIdentifier)"]).first)
            XCTAssertEqual(entry["HZ_DECISION"], decision.description)
            XCTAssertEqual(entry["HZ_REASON"], record.reason)
            XCTAssertEqual(entry["MESSAGE_ID"], decision == .fused ? JournalEvent.pairFused.rawValue : JournalEvent.fusionSkipped.rawValue)
        }
    }

    func testEveryConfiguredZoomIsPublishedListedInTheSidecarAndJournaled() throws {
        let daemon = try DaemonHarness(config: "output: {zoom: [tele, 1.5]}\n")
        try daemon.scratch.write(try frame(0), to: "spool/W/zooms-\(tag).jpg")
        try daemon.scratch.write(try frame(0.002, seed: 2), to: "spool/T/zooms-\(tag).jpg")
        // latest.jpg is pointed at the image just after its sidecar is written.
        let latest = "\(daemon.scratch.path)/out/latest.jpg"
        XCTAssertTrue(
            daemon.eventually { daemon.sidecars.count == 1 && FileManager.default.fileExists(atPath: latest) }, "published: \(daemon.sidecars)")

        let sidecar = try XCTUnwrap(daemon.sidecars.first)
        let stem = (sidecar as NSString).deletingPathExtension, id = (stem as NSString).lastPathComponent
        XCTAssertEqual(daemon.scratch.files(in: "out"), ["\(stem).jpg", sidecar, "\(stem)@1.5x.jpg", "latest.jpg"])
        let out = "\(daemon.scratch.path)/out"
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "\(out)/latest.jpg"), "\(stem).jpg", "the primary image")

        let record = try Publisher.readRecord(at: "\(out)/\(sidecar)")
        XCTAssertEqual(record.image, "\(id).jpg")
        XCTAssertEqual(record.zoom, 2)
        XCTAssertEqual(record.wideCrop, [40, 30, 80, 60])
        let other = try XCTUnwrap(record.otherOutputs.first)
        XCTAssertEqual(record.otherOutputs.count, 1)
        XCTAssertEqual(other.image, "\(id)@1.5x.jpg")
        XCTAssertEqual(other.zoom, 1.5)
        XCTAssertEqual(other.size, [160, 120])
        for (value, expected) in zip(other.wideCrop, [80 - 160 / 3.0, 20, 320 / 3.0, 80]) { XCTAssertEqual(value, expected, accuracy: 1e-9) }
        let image = try decodeJPEG(
            [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(out)/\((stem as NSString).deletingLastPathComponent)/\(other.image)"))),
            maxPixels: 1_000_000)
        XCTAssertEqual(image.image.size, Size(width: 160, height: 120))
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/\(sidecar)"))) as? [String: Any]
        let listed = try XCTUnwrap((written?["other_outputs"] as? [[String: Any]])?.first)
        XCTAssertEqual(Set(listed.keys), ["image", "size", "zoom", "wide_crop"])

        let entry = try XCTUnwrap(try JournalReader.entries(matching: ["HZ_PAIR=\(id)"]).first)
        XCTAssertEqual(entry["HZ_OUTPUT"], "\(id).jpg")
        XCTAssertEqual(entry["HZ_ZOOM"], "2.00")
        XCTAssertEqual(entry["HZ_OTHER_OUTPUTS"], "[\"\(id)@1.5x.jpg\"]")
    }

    func testMapsArePublishedBesideTheSidecarThatListsThem() throws {
        let daemon = try DaemonHarness(config: "output: {maps: true}\n")
        let pair = try TestFrames.simulatedPair(time: moment)
        try daemon.scratch.write(pair.wide, to: "spool/W/maps-\(tag).jpg")
        try daemon.scratch.write(pair.tele, to: "spool/T/maps-\(tag).jpg")
        XCTAssertTrue(daemon.eventually { daemon.sidecars.count == 1 }, "published: \(daemon.sidecars)")

        let sidecar = try XCTUnwrap(daemon.sidecars.first)
        let folder = "out/\((sidecar as NSString).deletingLastPathComponent)", day = "\(daemon.scratch.path)/\(folder)"
        let id = ((sidecar as NSString).lastPathComponent as NSString).deletingPathExtension
        let record = try Publisher.readRecord(at: "\(day)/\(id).json")
        XCTAssertEqual(record.decision, .fused)
        let files = [
            "flow.jpg", "uncertainty.jpg", "occlusion.jpg", "map-defocus.jpg", "map-defocus-parallax.jpg", "map-flat.jpg", "map-occlusion.jpg",
            "map-rejection.jpg", "map-uncertainty.jpg", "blend.jpg",
        ]
        XCTAssertEqual(record.maps, files.map { "\(id).maps/\($0)" })
        XCTAssertEqual(
            daemon.scratch.files(in: "\(folder)/\(id).maps"), files.sorted(),
            "exactly the listed maps, no temporary files left")
        for path in record.maps {
            let map = try decodeJPEG([UInt8](Data(contentsOf: URL(fileURLWithPath: "\(day)/\(path)"))), maxPixels: 1_000_000)
            XCTAssertEqual(map.image.size, Size(width: 160, height: 120), "\(path): the flow's grid, T's size below 512 px")
        }
    }

    /// What never gets a close-write is seen when it appears, without a restart: a hard link
    /// (`ln`) is taken in by its first name and its second name quarantined, so the frame is
    /// published once; a FIFO is quarantined saying what it is; a folder named like a frame is
    /// left with an entry saying so, and the frames inside it are taken in.
    func testLinksFIFOsFoldersAndNamesNotInUTF8AreSeenAndExplained() throws {
        reportChaos("file kinds and names") {
            "hard link, its second name, FIFO, folder named like a frame, name not in UTF-8: each taken in or set aside with a reason"
        }
        let daemon = try DaemonHarness(config: "")
        let spool = "\(daemon.scratch.path)/spool", staging = try daemon.scratch.write(try frame(0), to: "staging/w.jpg")
        try daemon.scratch.write(try frame(0.01, seed: 3), to: "spool/T/linked-\(tag).jpg")
        try FileManager.default.createDirectory(atPath: "\(spool)/W", withIntermediateDirectories: true)
        XCTAssertEqual(link(staging, "\(spool)/W/linked-\(tag).jpg"), 0)
        XCTAssertTrue(daemon.eventually { daemon.sidecars.count == 1 }, "a hard link is taken in when it appears")
        XCTAssertEqual(link(staging, "\(spool)/W/again-\(tag).jpg"), 0)
        XCTAssertEqual(mkfifo("\(spool)/W/pipe-\(tag).jpg", 0o644), 0)
        try FileManager.default.createDirectory(atPath: "\(spool)/folder-\(tag).jpg", withIntermediateDirectories: true)
        try daemon.scratch.write(try frame(5), to: "spool/folder-\(tag).jpg/inside-\(tag)_W.jpg")
        try daemon.scratch.write(try frame(5.01, seed: 3), to: "spool/folder-\(tag).jpg/inside-\(tag)_T.jpg")
        let latin1 = Array("latin-\(tag)-".utf8) + [0xE9] + Array(".jpg".utf8)
        try daemon.scratch.write(try frame(9), toFolder: "spool/W", rawName: latin1)
        try daemon.scratch.write(try frame(9.01, seed: 3), toFolder: "spool/T", rawName: latin1)

        func reason(_ file: String) -> String? {
            try? String(contentsOfFile: "\(daemon.scratch.path)/quarantine/\(file).reason", encoding: .utf8)
        }
        XCTAssertTrue(daemon.eventually { reason("W/again-\(tag).jpg") != nil && reason("W/pipe-\(tag).jpg") != nil })
        XCTAssertEqual(reason("W/again-\(tag).jpg"), "a second name (hard link) of W/linked-\(tag).jpg, which was taken in already\n")
        XCTAssertEqual(reason("W/pipe-\(tag).jpg"), "not a regular file but a FIFO\n")
        XCTAssertTrue(daemon.eventually { daemon.sidecars.count == 3 }, "\(daemon.sidecars)")
        XCTAssertTrue(daemon.sidecars.contains { $0.contains("inside-\(tag)") }, "\(daemon.sidecars)")
        XCTAssertTrue(daemon.sidecars.contains { $0.contains("latin-\(tag)-%E9") }, "a name that is not UTF-8, renamed: \(daemon.sidecars)")
        let renamed = try JournalReader.entries(matching: ["MESSAGE_ID=\(JournalEvent.inputRenamed.rawValue)"])
            .compactMap { $0["HZ_MOVED_TO"] }.filter { $0.hasSuffix("latin-\(tag)-%E9.jpg") }
        XCTAssertEqual(renamed.count, 2, "W and T each renamed once")
        let left = try JournalReader.entries(matching: ["MESSAGE_ID=4990dd8a56694e958ac55e0e32be9fe1", "HZ_FILE=folder-\(tag).jpg"])
        XCTAssertEqual(
            left.first?["HZ_REASON"], "a folder named like a frame: left in place, the frames inside it are taken in", "\(left)")
        XCTAssertTrue(daemon.process.isRunning)
    }

    /// With no journald at all (its socket missing, here hidden under an empty tmpfs in a mount
    /// namespace of its own), libsystemd reports each entry sent; the entries go to stderr.
    func testWithoutAJournalEntriesGoToStderr() throws {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else {
            throw XCTSkip("needs root and unshare for a mount namespace")
        }
        let scratch = try ScratchFolder("hzsrd-nojournal")
        try "paths: {spool: \(scratch.path)/spool}\n".write(toFile: "\(scratch.path)/hzsrd.yaml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = [
            "--mount", "/bin/sh", "-c", "mount -t tmpfs none /run/systemd/journal && exec \"$0\" --config \"$1\"",
            DaemonHarness.binary, "\(scratch.path)/hzsrd.yaml",
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
        let errors = Pipe()
        (process.standardOutput, process.standardError) = (FileHandle.nullDevice, errors)
        try process.run()
        Thread.sleep(forTimeInterval: 2 * DaemonHarness.timeScale)
        process.terminate()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertTrue(text.contains("hzsrd watching \(scratch.path)/spool"), "stderr: \(text)")
        XCTAssertTrue(text.contains("MESSAGE_ID=\(JournalEvent.started.rawValue)"), "stderr: \(text)")
    }

    /// A sub-folder renamed inside the spool, then written to: the kernel keeps its watch under
    /// the old name, so its frames were looked for there and never found (the T frame orphaned,
    /// the W frame left for good). Now they are seen under the new name and paired; so is a
    /// frame waiting in a folder that moves.
    func testAFolderRenamedInTheSpoolIsWatchedUnderItsNewName() throws {
        let daemon = try DaemonHarness(config: "")
        let spool = "\(daemon.scratch.path)/spool"
        try FileManager.default.createDirectory(atPath: "\(spool)/W/a-\(tag)", withIntermediateDirectories: true)
        try daemon.scratch.write(try frame(0), to: "spool/W/a-\(tag)/waiting-\(tag).jpg")
        XCTAssertTrue(daemon.eventually { daemon.process.isRunning && daemon.scratch.files(in: "spool/W/a-\(tag)").count == 1 })
        Thread.sleep(forTimeInterval: 0.5)
        try FileManager.default.moveItem(atPath: "\(spool)/W/a-\(tag)", toPath: "\(spool)/W/b-\(tag)")
        try daemon.scratch.write(try frame(5), to: "spool/W/b-\(tag)/later-\(tag).jpg")
        try daemon.scratch.write(try frame(0.01, seed: 3), to: "spool/T/waiting-\(tag).jpg")
        try daemon.scratch.write(try frame(5.01, seed: 3), to: "spool/T/later-\(tag).jpg")
        XCTAssertTrue(daemon.eventually { daemon.sidecars.count == 2 }, "\(daemon.sidecars)")
        XCTAssertEqual(daemon.scratch.files(in: "orphans").filter { $0.hasSuffix(".jpg") }, [])
        let moved = try JournalReader.entries(matching: ["MESSAGE_ID=\(JournalEvent.rescan.rawValue)"])
            .filter { $0["MESSAGE"]?.contains("a-\(tag) moved; watching") ?? false }
        XCTAssertEqual(moved.count, 1, "\(moved)")
    }

    /// The output disk fills up while pairs keep coming: each failed pair stays in work/, leaves
    /// no partial file, and once space is freed every pair is published exactly once, without a
    /// restart. (The output folder is a small tmpfs: the test needs the right to mount one.)
    func testAFullOutputDiskIsRecoveredFromWithoutARestart() throws {
        reportChaos("output disk full") { "10 pairs onto a 48 kB tmpfs, then room: each published once, without a restart" }
        let scratch = try ScratchFolder("hzsrd-full")
        let out = "\(scratch.path)/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        guard mount(out, size: "48k") else { throw XCTSkip("needs the right to mount a tmpfs") }
        defer { _ = runTool("/bin/umount", [out]) }
        // No free-space floor: the disk must fill while pairs are written, not before they are claimed.
        let daemon = try DaemonHarness(config: "paths: {output: \(out)}\nintake: {min_free_space_mb: 0}\n")
        let count = 10
        for index in 0..<count {
            try daemon.scratch.write(try frame(Double(index)), to: "spool/W/full\(index)-\(tag).jpg")
            try daemon.scratch.write(try frame(Double(index) + 0.01, seed: 3), to: "spool/T/full\(index)-\(tag).jpg")
        }
        func published() -> [String] { scratch.files(in: "out").filter { $0.hasSuffix(".json") } }
        let failed = daemon.eventually(timeout: 30) {
            (try? JournalReader.entries(matching: ["MESSAGE_ID=5f667256390d4f799fdaf745db0bd8c8"]))?
                .contains { $0["HZ_PAIR"]?.contains("-\(tag)") ?? false } ?? false
        }
        XCTAssertTrue(failed, "the disk never filled: \(published().count) published")
        XCTAssertLessThan(published().count, count)
        XCTAssertEqual(scratch.files(in: "out").filter { $0.hasSuffix(".tmp") }, [], "no partial file holds space")

        XCTAssertTrue(mount(out, size: "4m", remount: true))
        XCTAssertTrue(daemon.eventually(timeout: 90) { published().count == count }, "\(published())")
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(published().count, count, "each once")
        XCTAssertEqual(daemon.inWork + daemon.scratch.files(in: "spool"), [])
        XCTAssertTrue(daemon.process.isRunning)
    }

    /// A pair that failed (here its output day folder is blocked by a file) has the failure counted
    /// in its manifest: after a restart it waits the delay its count calls for, the journal says
    /// so, and it is published once the fault is gone.
    func testAFailedPairKeepsItsRetryDelayAcrossARestart() throws {
        let daemon = try DaemonHarness(config: "")
        let day = try daemon.scratch.write([], to: "out/\(moment.formatted(.iso8601.year().month().day()))")
        try daemon.scratch.write(try frame(0), to: "spool/W/retry-\(tag).jpg")
        try daemon.scratch.write(try frame(0.002, seed: 2), to: "spool/T/retry-\(tag).jpg")
        let failed = daemon.eventually(timeout: 30) {
            (try? JournalReader.entries(matching: ["MESSAGE_ID=5f667256390d4f799fdaf745db0bd8c8"]))?
                .contains { $0["HZ_PAIR"]?.contains("retry-\(tag)") ?? false } ?? false
        }
        XCTAssertTrue(failed, "the blocked output never failed the pair")
        daemon.signal(SIGTERM)
        daemon.process.waitUntilExit()
        let manifest = try XCTUnwrap(daemon.inWork.first { $0.hasSuffix("manifest.json") })
        let recorded = try ClaimManifest.read(inPairFolder: "\(daemon.scratch.path)/work/\((manifest as NSString).deletingLastPathComponent)")
        XCTAssertGreaterThanOrEqual(recorded.failures, 1)
        XCTAssertEqual(recorded.attempts, 0, "an error is not a crash")

        try FileManager.default.removeItem(atPath: day)
        try daemon.start()
        let resumed = try JournalReader.entries(matching: ["MESSAGE_ID=2befa31a3b324460b2aef2f52ae45443", "HZ_PAIR=\(recorded.id)"])
        let wait = 1 << min(recorded.failures - 1, 6)
        XCTAssertTrue(
            resumed.contains { $0["MESSAGE"] == "\(recorded.id) failed \(recorded.failures) times before the restart; tried again in \(wait) s" },
            "\(resumed.map { $0["MESSAGE"] ?? "" })")
        XCTAssertTrue(daemon.eventually(timeout: 30) { daemon.sidecars.count == 1 }, "published once the fault is gone")
    }

    /// Too little free space (here a limit no disk meets) leaves pairs in the spool, says why in
    /// `systemctl status` and, once, in the journal; when there is room again (a reload with a
    /// lower limit stands in for freed space) the pair is claimed and published without a restart.
    func testPairsWaitInTheSpoolUntilTheDiskHasRoom() throws {
        reportChaos("disk space before claiming") { "a pair waits under intake.min_free_space_mb, said once, claimed when there is room" }
        let daemon = try DaemonHarness(config: "intake: {min_free_space_mb: 90000000}\n")
        try daemon.scratch.write(try frame(0), to: "spool/W/room-\(tag).jpg")
        try daemon.scratch.write(try frame(0.01, seed: 3), to: "spool/T/room-\(tag).jpg")
        XCTAssertTrue(daemon.eventually { daemon.notifications.messages.contains { $0.contains("claims wait: paths.work") } })
        Thread.sleep(forTimeInterval: 4.5)  // two more looks
        XCTAssertEqual(daemon.sidecars, [])
        XCTAssertEqual(daemon.scratch.files(in: "spool").count, 2)
        let waits = try JournalReader.entries(matching: ["MESSAGE_ID=5f667256390d4f799fdaf745db0bd8c8"])
            .filter { $0["HZ_REASON"]?.contains("\(daemon.scratch.path)/work") ?? false }
        XCTAssertEqual(waits.count, 1, "said once: \(waits)")
        XCTAssertTrue(waits.first?["HZ_REASON"]?.hasSuffix("below intake.min_free_space_mb (90000000)") ?? false, "\(waits)")

        try "intake: {min_free_space_mb: 1}\n".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        XCTAssertTrue(daemon.eventually { daemon.sidecars.count == 1 }, "claimed once there is room")
        XCTAssertTrue(daemon.eventually { !(daemon.notifications.messages.last?.contains("claims wait") ?? true) })
    }

    private func mount(_ folder: String, size: String, remount: Bool = false) -> Bool {
        runTool("/bin/mount", ["-t", "tmpfs", "-o", (remount ? "remount," : "") + "size=\(size)", "tmpfs", folder]) == 0
    }

    private func runTool(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func testBadInputIsSetAsideWithAReasonAndNothingElseIsAffected() throws {
        reportChaos("bad input at intake") {
            "truncated, empty, not a JPEG, 65535×65535, symbolic link, lone frames: each set aside with a reason, the good pair published"
        }
        let daemon = try DaemonHarness(config: "intake: {settle_time: 0.3}\npairing: {orphan_timeout: 1.5}\n")
        let good = try frame(0)
        try daemon.scratch.write([], to: "spool/W/empty.jpg")
        try daemon.scratch.write(Array(good.prefix(good.count * 2 / 3)), to: "spool/T/truncated.jpg")
        try daemon.scratch.write(Array("not a jpeg at all\n".utf8), to: "spool/W/text.jpg")
        try daemon.scratch.write(try JPEGDamage.claimingSize(65535, 65535, good), to: "spool/W/huge.jpg")
        let outside = try daemon.scratch.write(good, to: "elsewhere/target.jpg")
        try FileManager.default.createSymbolicLink(atPath: "\(daemon.scratch.path)/spool/W/link.jpg", withDestinationPath: outside)
        try daemon.scratch.write(try frame(30), to: "spool/W/lone-a.jpg")
        try daemon.scratch.write(try frame(60), to: "spool/W/lone-b.jpg")
        try daemon.scratch.write(good, to: "spool/W/good-\(tag).jpg")
        try daemon.scratch.write(try frame(0.01, seed: 3), to: "spool/T/good-\(tag).jpg")

        XCTAssertTrue(daemon.eventually { daemon.sidecars.count == 1 }, "the good pair is published")
        let orphans = ["W/lone-a.jpg", "W/lone-a.jpg.reason", "W/lone-b.jpg", "W/lone-b.jpg.reason"]
        XCTAssertTrue(daemon.eventually { daemon.scratch.files(in: "orphans") == orphans }, "\(daemon.scratch.files(in: "orphans"))")
        let quarantined = [
            "T/truncated.jpg", "T/truncated.jpg.reason", "W/empty.jpg", "W/empty.jpg.reason", "W/huge.jpg", "W/huge.jpg.reason",
            "W/link.jpg", "W/link.jpg.reason", "W/text.jpg", "W/text.jpg.reason",
        ]
        XCTAssertTrue(daemon.eventually { daemon.scratch.files(in: "quarantine") == quarantined }, "\(daemon.scratch.files(in: "quarantine"))")
        XCTAssertEqual(daemon.scratch.files(in: "spool"), [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: outside), "a link's target is never touched")

        func reason(_ file: String) throws -> String {
            try String(contentsOfFile: "\(daemon.scratch.path)/quarantine/\(file).reason", encoding: .utf8)
        }
        XCTAssertTrue(try reason("W/empty.jpg").contains("empty file"))
        XCTAssertTrue(try reason("T/truncated.jpg").contains("truncated"))
        XCTAssertTrue(try reason("W/text.jpg").contains("not a JPEG"))
        XCTAssertTrue(try reason("W/huge.jpg").contains("65535×65535"))
        XCTAssertTrue(try reason("W/link.jpg").contains("symbolic link"))

        let entries = try JournalReader.entries(matching: [
            "MESSAGE_ID=b21b4f82295e48b4bbfa427751ae93a3",
            "HZ_MOVED_TO=\(daemon.scratch.path)/quarantine/W/huge.jpg",
        ])
        XCTAssertTrue(entries.first?["HZ_REASON"]?.contains("above the limit") ?? false, "\(entries)")
        XCTAssertTrue(daemon.process.isRunning)
    }

    /// Frames that once crashed the daemon at every start (a warning, then a header no decoder
    /// takes) or published memory nobody wrote (a warning, then a fatal decode error), and one
    /// whose scan is cut short: each pair is quarantined with the decoder's message, the daemon
    /// lives, and the pair written after them is published.
    func testFramesThatCannotBeDecodedAreQuarantinedAndLaterPairsPublished() throws {
        reportChaos("frames the decoder refuses") {
            "2×3 sampling (the old crasher), no quantization tables, undefined Huffman table, cut scan: 4 of 4 quarantined, the next published"
        }
        let daemon = try DaemonHarness(config: "")
        let broken: [(name: String, damage: ([UInt8]) throws -> [UInt8], message: String)] = [
            (
                "sampling", { try JPEGDamage.lumaSampling(0x23, JPEGDamage.unknownJFIFRevision($0)) },
                "cannot decode: unsupported chroma sampling: Y 2×3, Cb 1×1, Cr 1×1"
            ),
            (
                "tables", { try JPEGDamage.withoutQuantizationTables(JPEGDamage.unknownJFIFRevision($0)) },
                "cannot decode: Quantization table 0x00 was not defined"
            ),
            (
                "huffman", { try JPEGDamage.undefinedHuffmanTable(JPEGDamage.unknownJFIFRevision($0)) },
                "cannot decode: Huffman table 0x03 was not defined"
            ),
            ("cut", JPEGDamage.cutShortScan, "corrupt scan data: Corrupt JPEG data: premature end of data segment"),
        ]
        for (index, frame) in broken.enumerated() {
            try daemon.scratch.write(try frame.damage(self.frame(Double(index))), to: "spool/W/\(frame.name)-\(tag).jpg")
            try daemon.scratch.write(try self.frame(Double(index) + 0.002, seed: 2), to: "spool/T/\(frame.name)-\(tag).jpg")
        }
        try daemon.scratch.write(try frame(10), to: "spool/W/after-\(tag).jpg")
        try daemon.scratch.write(try frame(10.002, seed: 2), to: "spool/T/after-\(tag).jpg")

        XCTAssertTrue(daemon.eventually { daemon.sidecars.count == 1 }, "the pair after them is published")
        XCTAssertTrue(daemon.sidecars[0].contains("after-\(tag)"), "\(daemon.sidecars)")
        for frame in broken {
            let entry = try XCTUnwrap(
                JournalReader.entries(matching: [
                    "MESSAGE_ID=b21b4f82295e48b4bbfa427751ae93a3",
                    "HZ_FILE=W/\(frame.name)-\(tag).jpg",
                ]).first)
            XCTAssertEqual(entry["HZ_REASON"], "W/\(frame.name)-\(tag).jpg: \(frame.message)")
            let movedTo = try XCTUnwrap(entry["HZ_MOVED_TO"])
            XCTAssertEqual(try String(contentsOfFile: movedTo + ".reason", encoding: .utf8), "W/\(frame.name)-\(tag).jpg: \(frame.message)\n")
        }
        XCTAssertEqual(daemon.scratch.files(in: "quarantine").filter { $0.hasSuffix(".jpg") }.count, 8, "both frames of each pair kept")
        XCTAssertTrue(daemon.process.isRunning)
    }

    /// With `intake.corrupt_frames: use`, a frame with a cut-short scan is fused as decoded, and
    /// every decoder warning of the pair is in the sidecar and the journal.
    func testDecoderWarningsReachTheSidecarAndTheJournal() throws {
        let daemon = try DaemonHarness(config: "intake: {corrupt_frames: use}\n")
        try daemon.scratch.write(try JPEGDamage.cutShortScan(frame(0)), to: "spool/W/warned-\(tag).jpg")
        try daemon.scratch.write(try JPEGDamage.unknownJFIFRevision(frame(0.002, seed: 2)), to: "spool/T/warned-\(tag).jpg")
        XCTAssertTrue(daemon.eventually { daemon.sidecars.count == 1 }, "published: \(daemon.sidecars)")

        let record = try Publisher.readRecord(at: "\(daemon.scratch.path)/out/\(daemon.sidecars[0])")
        let warnings = [
            "W/warned-\(tag).jpg: Corrupt JPEG data: premature end of data segment",
            "T/warned-\(tag).jpg: Warning: unknown JFIF revision number 33.01",
        ]
        XCTAssertEqual(record.warnings, warnings)
        let entry = try XCTUnwrap(try JournalReader.entries(matching: ["HZ_PAIR=\(record.pair)"]).first)
        XCTAssertEqual(entry["HZ_WARNINGS"], "[\(warnings.map { "\"\($0)\"" }.joined(separator: ","))]")
    }

    /// A pair the daemon dies on, again and again (here it is killed each time the pair is in
    /// hand, as an out-of-memory kill would): after three deaths it is quarantined with the
    /// reason, and the pairs queued behind it are published.
    func testAPairTheDaemonKeepsDyingOnIsQuarantinedAndThePairsBehindItGoOn() throws {
        reportChaos("poison pair") { "killed 3 times with it in hand: quarantined, the 2 pairs behind it published" }
        let daemon = try DaemonHarness(config: "")
        // Large enough that a debug build takes seconds over it.
        let big = Size(width: 2400, height: 1800)
        try daemon.scratch.write(try TestFrames.jpeg(big, time: moment), to: "spool/W/poison-\(tag).jpg")
        try daemon.scratch.write(try TestFrames.jpeg(big, time: moment, seed: 2), to: "spool/T/poison-\(tag).jpg")
        func attempts() -> Int? {
            let work = "\(daemon.scratch.path)/work"
            let folder = (try? FileManager.default.contentsOfDirectory(atPath: work))?.first { $0.contains("poison") }
            return folder.flatMap { try? ClaimManifest.read(inPairFolder: "\(work)/\($0)").attempts }
        }
        for death in 1...3 {
            XCTAssertTrue(daemon.eventually(timeout: 30) { attempts() == death }, "try \(death) never began: \(String(describing: attempts()))")
            if death == 1 {  // queued behind the poison pair
                for index in 0..<2 {
                    try daemon.scratch.write(try frame(Double(index + 1)), to: "spool/W/behind\(index)-\(tag).jpg")
                    try daemon.scratch.write(try frame(Double(index + 1)), to: "spool/T/behind\(index)-\(tag).jpg")
                }
                XCTAssertTrue(daemon.eventually { daemon.scratch.files(in: "spool").isEmpty }, "claimed while the worker is busy")
            }
            daemon.signal(SIGKILL)
            daemon.process.waitUntilExit()
            XCTAssertEqual(daemon.sidecars, [], "death \(death) came before anything was published")
            try daemon.start()
        }
        XCTAssertTrue(daemon.eventually(timeout: 30) { daemon.sidecars.count == 2 }, "\(daemon.sidecars)")
        XCTAssertTrue(daemon.sidecars.allSatisfy { $0.contains("behind") }, "\(daemon.sidecars)")
        let reasons = daemon.scratch.files(in: "quarantine").filter { $0.hasSuffix(".reason") }
        XCTAssertEqual(reasons.count, 1, "\(reasons)")
        XCTAssertTrue(reasons.first?.contains("poison-\(tag)") ?? false, "\(reasons)")
        let entries = try JournalReader.entries(matching: ["MESSAGE_ID=b21b4f82295e48b4bbfa427751ae93a3"])
            .filter { $0["HZ_PAIR"]?.contains("poison-\(tag)") ?? false }
        XCTAssertEqual(
            entries.first?["HZ_REASON"], "the daemon died 3 times while this pair was in hand (killed, crashed or out of memory; limit 3)")
        XCTAssertTrue(daemon.process.isRunning)
    }

    func testReloadKeepsTheOldConfigWhenTheNewOneIsBad() throws {
        let daemon = try DaemonHarness(config: "pairing: {tolerance: 0.05}\n")
        try "pairing: {tolerance: soon}\n".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        let refused = try JournalReader.entries(matching: ["MESSAGE_ID=5f667256390d4f799fdaf745db0bd8c8", "HZ_CONFIG=\(daemon.configPath)"])
        XCTAssertTrue(refused.first?["HZ_REASON"]?.contains("pairing.tolerance") ?? false, "\(refused)")
        XCTAssertTrue(daemon.process.isRunning)
        // The old tolerance still holds: 0.2 s apart is not a pair.
        try daemon.scratch.write(try frame(0), to: "spool/W/a.jpg")
        try daemon.scratch.write(try frame(0.2), to: "spool/T/a.jpg")
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(daemon.sidecars.count, 0)

        try "pairing: {tolerance: 0.5}\n".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        XCTAssertFalse(
            try JournalReader.entries(matching: ["MESSAGE_ID=8bd93ce90d7249908c39513daeebbe3e", "HZ_CONFIG=\(daemon.configPath)"]).isEmpty)
        try daemon.scratch.write(try frame(0.2), to: "spool/T/a.jpg")  // written again: a new event
        XCTAssertTrue(daemon.eventually { daemon.sidecars.count == 1 })
        XCTAssertTrue(daemon.notifications.messages.contains { $0.contains("RELOADING=1") })
    }

    func testAnInvalidConfigStopsTheStartWithTheKeyNamed() throws {
        let scratch = try ScratchFolder()
        let config = "\(scratch.path)/bad.yaml"
        try "rig:\n  zoom_ratio: 0.5\n".write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonHarness.binary)
        process.arguments = ["--config", config]
        process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 78)
        let entry = try JournalReader.entries(matching: ["HZ_CONFIG=\(config)"]).first
        XCTAssertTrue(entry?["MESSAGE"]?.contains("rig.zoom_ratio (line 2)") ?? false, "\(String(describing: entry))")
    }
}

/// A service manager that stops reading its notification socket (its queue holds ten
/// datagrams) must not stall the daemon: pairs still publish and SIGTERM still stops it.
final class StalledManagerTests: XCTestCase {
    func testAFullNotificationSocketStallsNothing() throws {
        let scratch = try ScratchFolder("hzsrd-stalled")
        let socketPath = "\(scratch.path)/unread.sock"
        let unread = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(unread) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: socketPath.utf8) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(unread, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        // Fill the queue before the daemon starts, so its very first notification blocks.
        for _ in 0..<64 {
            let sender = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(sender, "X=1", 3, 0, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            close(sender)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonHarness.binary)
        process.arguments = ["--config", "\(scratch.path)/hzsrd.yaml"]
        process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
        try "".write(toFile: "\(scratch.path)/hzsrd.yaml", atomically: true, encoding: .utf8)
        process.environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "1000000"]) { $1 }
        try process.run()
        let moment = Date()
        try scratch.write(try TestFrames.jpeg(time: moment), to: "spool/W/a.jpg")
        try scratch.write(try TestFrames.jpeg(time: moment, seed: 2), to: "spool/T/a.jpg")
        let deadline = Date() + 20
        while scratch.files(in: "out").filter({ $0.hasSuffix(".json") }).isEmpty, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertEqual(scratch.files(in: "out").filter { $0.hasSuffix(".json") }.count, 1, "a pair still publishes")
        process.terminate()
        let stopped = Date() + 10
        while process.isRunning, Date() < stopped { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertFalse(process.isRunning, "SIGTERM still stops it")
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
