import Foundation
import HZTestSupport
import HybridZoom
import XCTest

@testable import HZSpool

final class SpoolIntakeTests: XCTestCase {
    private var scratch: ScratchFolder!
    private var config: DaemonConfig!
    private let clock = ContinuousClock()
    private let moment = Date(timeIntervalSince1970: 1_790_000_000.25)

    override func setUpWithError() throws {
        scratch = try ScratchFolder()
        config = try DaemonConfig.parse("intake: {settle_time: 0.2}\npairing: {orphan_timeout: 0.3}", relativeTo: scratch.path)
        XCTAssertEqual(FolderCheck.problems(config.paths, creating: true), [])
    }

    func testAPairIsClaimedIntoWork() throws {
        var intake = SpoolIntake(config: config)
        let wide = try scratch.write(try TestFrames.jpeg(time: moment), to: "spool/W/IMG 1 ☀.jpg")
        let tele = try scratch.write(try TestFrames.jpeg(time: moment + 0.004), to: "spool/T/IMG 1 ☀.jpg")
        guard case .waiting = intake.inspect(wide, now: clock.now).first else { return XCTFail("W should wait") }
        guard case .claimed(let claimed, _)? = intake.inspect(tele, now: clock.now).first else { return XCTFail("not claimed") }
        XCTAssertEqual(claimed.manifest.id, "20260921-141320.250_IMG 1 ☀")
        XCTAssertEqual(claimed.manifest.day, "2026-09-21")
        XCTAssertEqual(
            scratch.files(in: "work"),
            [
                "20260921-141320.250_IMG 1 ☀/T/IMG 1 ☀.jpg",
                "20260921-141320.250_IMG 1 ☀/W/IMG 1 ☀.jpg",
                "20260921-141320.250_IMG 1 ☀/manifest.json",
            ])
        XCTAssertEqual(scratch.files(in: "spool"), [])
    }

    func testIncompleteFileIsQuarantinedOnlyAfterItSettles() throws {
        var intake = SpoolIntake(config: config)
        let whole = try TestFrames.jpeg(time: moment)
        let path = try scratch.write(Array(whole.prefix(whole.count / 2)), to: "spool/W/half.jpg")
        XCTAssertTrue(intake.inspect(path, now: clock.now).isEmpty)
        XCTAssertTrue(intake.tick(now: clock.now).isEmpty, "still within the settle time")
        Thread.sleep(forTimeInterval: 0.25)
        let outcomes = intake.tick(now: clock.now)
        guard case .quarantined(let file, let reason, _, _)? = outcomes.first else { return XCTFail("\(outcomes)") }
        XCTAssertEqual(file, "W/half.jpg")
        XCTAssertTrue(reason.contains("truncated") || reason.contains("EOI"), reason)
        XCTAssertEqual(scratch.files(in: "quarantine"), ["W/half.jpg", "W/half.jpg.reason"])
    }

    /// A sparse file of 4 GB (no disk space, but reading it would take the memory): set aside
    /// at once, unread.
    func testAFileLargerThanAnyFrameIsQuarantinedUnread() throws {
        var intake = SpoolIntake(config: config)
        let path = try scratch.write(try TestFrames.jpeg(time: moment), to: "spool/W/huge.jpg")
        XCTAssertEqual(truncate(path, 4 << 30), 0)
        let outcomes = intake.inspect(path, now: clock.now)
        guard case .quarantined(let file, let reason, _, _)? = outcomes.first else { return XCTFail("\(outcomes)") }
        XCTAssertEqual(file, "W/huge.jpg")
        XCTAssertEqual(
            reason, "4294967296 bytes, more than a frame of intake.max_megapixels can be (\(config.intake.maxFileBytes) bytes): not read")
        XCTAssertEqual(scratch.files(in: "quarantine"), ["W/huge.jpg", "W/huge.jpg.reason"])
    }

    /// An input that cannot move in (here T, gone since it was paired): W goes back to the
    /// spool and no claim is left in work/, so that each try adds nothing there.
    func testAClaimThatCannotMoveAnInputIsUndone() throws {
        let wide = try scratch.write(try TestFrames.jpeg(time: moment), to: "spool/W/a.jpg")
        func frame(_ path: String, _ role: Role) -> Frame {
            Frame(
                path: path, relativePath: String(path.dropFirst(config.paths.spool.count + 1)), role: role, timestamp: moment,
                timestampSource: .exif, arrival: clock.now)
        }
        let pair = FramePair(wide: frame(wide, .wide), tele: frame("\(config.paths.spool)/T/a.jpg", .tele))
        for _ in 0..<2 {
            XCTAssertThrowsError(try SpoolStore(paths: config.paths).claim(pair, id: "a", day: "2026-09-21")) { error in
                XCTAssertTrue("\(error)".contains("input T/a.jpg is neither in the spool nor in"), "\(error)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: config.paths.work).filter { $0 != SpoolLock.fileName }, [])
        XCTAssertEqual(scratch.files(in: "spool"), ["W/a.jpg"])
    }

    /// A claim that keeps failing (here work/ has become a file) is tried again after 2 s, then
    /// 4, then 8: not every 2 s for ever, each try a journal entry. The events of a frame moved
    /// back by an undone claim (gone, then there again) leave it waiting for that retry, not
    /// alone in the pairer, where it would become an orphan.
    func testAClaimThatKeepsFailingIsTriedLessAndLessOften() throws {
        var intake = SpoolIntake(config: config)
        try replaceWithFile(config.paths.work)
        let wide = try scratch.write(try TestFrames.jpeg(time: moment), to: "spool/W/a.jpg")
        _ = intake.inspect(wide, now: clock.now)
        var now = clock.now
        var outcomes = intake.inspect(try scratch.write(try TestFrames.jpeg(time: moment + 0.004), to: "spool/T/a.jpg"), now: now)
        var waits: [Substring] = []
        for _ in 0..<3 {
            for case .failed(_, let reason) in outcomes { waits += reason.split(separator: "; ").suffix(1) }
            intake.forget(wide)
            XCTAssertTrue(intake.inspect(wide, now: now).isEmpty)
            XCTAssertEqual(intake.waitingCount, 0)
            now += .seconds(700)
            outcomes = intake.tick(now: now)
        }
        XCTAssertEqual(waits, ["trying again in 2.0 seconds", "trying again in 4.0 seconds", "trying again in 8.0 seconds"])
        XCTAssertEqual(scratch.files(in: "spool"), ["T/a.jpg", "W/a.jpg"])
    }

    /// A scan says it is alive after each file (so that a spool that filled while the daemon was
    /// down does not starve the watchdog), and takes in every frame.
    func testAScanReportsProgressAfterEachFile() throws {
        var intake = SpoolIntake(config: config)
        for index in 0..<3 {
            try scratch.write(try TestFrames.jpeg(time: moment + Double(index)), to: "spool/W/\(index).jpg")
            try scratch.write(try TestFrames.jpeg(time: moment + Double(index) + 0.004, seed: 2), to: "spool/T/\(index).jpg")
        }
        var calls = 0
        let outcomes = intake.scan(now: clock.now) { calls += 1 }
        XCTAssertEqual(calls, 6)
        XCTAssertEqual(outcomes.filter { if case .claimed = $0 { true } else { false } }.count, 3, "\(outcomes)")
    }

    /// A frame that cannot be moved to orphans (here orphans/ has become a file) stays in the
    /// spool and is looked at again later, by when its partner has come: the pair is claimed.
    /// It used to be dropped from intake, and the partner orphaned in its turn.
    func testAFrameThatCannotBeOrphanedIsLookedAtAgain() throws {
        var intake = SpoolIntake(config: config)
        try replaceWithFile(config.paths.orphans)
        let wide = try scratch.write(try TestFrames.jpeg(time: moment), to: "spool/W/a.jpg")
        _ = intake.inspect(wide, now: clock.now)
        let expired = intake.tick(now: clock.now + .seconds(1))
        guard case .failed(let file, let reason)? = expired.first else { return XCTFail("\(expired)") }
        XCTAssertEqual(file, wide)
        XCTAssertTrue(reason.hasPrefix("cannot move it to orphans: "), reason)
        XCTAssertTrue(reason.hasSuffix("; looking at it again in 2.0 seconds"), reason)

        try FileManager.default.removeItem(atPath: config.paths.orphans)
        let tele = try scratch.write(try TestFrames.jpeg(time: moment + 0.004), to: "spool/T/a.jpg")
        guard case .waiting = intake.inspect(tele, now: clock.now + .seconds(2)).first else { return XCTFail("T should wait") }
        let again = intake.tick(now: clock.now + .seconds(4))
        guard case .claimed(let claimed, _)? = again.first else { return XCTFail("\(again)") }
        XCTAssertEqual(claimed.manifest.id, "20260921-141320.250_a")
    }

    /// A sub-folder renamed while its frame waits for a partner: the frame is forgotten under
    /// its old path and taken in under its new one, so it pairs from there.
    func testARenamedFolderTakesItsWaitingFramesAlong() throws {
        var intake = SpoolIntake(config: config)
        let old = try scratch.write(try TestFrames.jpeg(time: moment), to: "spool/W/day1/a.jpg")
        guard case .waiting? = intake.inspect(old, now: clock.now).first else { return XCTFail("W should wait") }
        try FileManager.default.moveItem(atPath: "\(scratch.path)/spool/W/day1", toPath: "\(scratch.path)/spool/W/day2")
        intake.forget("\(scratch.path)/spool/W/day1")
        XCTAssertEqual(intake.waitingCount, 0)
        _ = intake.inspect("\(scratch.path)/spool/W/day2/a.jpg", now: clock.now)
        let tele = try scratch.write(try TestFrames.jpeg(time: moment + 0.004), to: "spool/T/a.jpg")
        guard case .claimed(let claimed, _)? = intake.inspect(tele, now: clock.now).first else { return XCTFail("not claimed") }
        XCTAssertEqual(claimed.manifest.inputs.map(\.name), ["W/day2/a.jpg", "T/a.jpg"])
    }

    func testAFileCompletedWhileSettlingIsTakenIn() throws {
        var intake = SpoolIntake(config: config)
        let whole = try TestFrames.jpeg(time: moment)
        let path = try scratch.write(Array(whole.prefix(100)), to: "spool/W/growing.jpg")
        XCTAssertTrue(intake.inspect(path, now: clock.now).isEmpty)
        try scratch.write(whole, to: "spool/W/growing.jpg")
        guard case .waiting? = intake.inspect(path, now: clock.now).first else { return XCTFail("should be taken in") }
    }

    func testSymlinkIsSetAsideNotFollowed() throws {
        var intake = SpoolIntake(config: config)
        let target = try scratch.write(try TestFrames.jpeg(time: moment), to: "elsewhere/real.jpg")
        try FileManager.default.createDirectory(atPath: "\(scratch.path)/spool/W", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(scratch.path)/spool/W/link.jpg", withDestinationPath: target)
        let outcomes = intake.scan(now: clock.now)
        guard case .quarantined(_, let reason, _, _)? = outcomes.first else { return XCTFail("\(outcomes)") }
        XCTAssertTrue(reason.contains("symbolic link"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: target), "the link's target is not touched")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "\(scratch.path)/quarantine/W/link.jpg"), target)
    }

    func testLoneFrameBecomesAnOrphan() throws {
        var intake = SpoolIntake(config: config)
        _ = intake.inspect(try scratch.write(try TestFrames.jpeg(time: moment), to: "spool/W/a.jpg"), now: clock.now)
        _ = intake.inspect(try scratch.write(try TestFrames.jpeg(time: moment), to: "spool/W/b.jpg"), now: clock.now)
        XCTAssertTrue(intake.tick(now: clock.now).isEmpty)
        let outcomes = intake.tick(now: clock.now + .seconds(1))
        XCTAssertEqual(outcomes.count, 2)
        XCTAssertEqual(scratch.files(in: "orphans"), ["W/a.jpg", "W/a.jpg.reason", "W/b.jpg", "W/b.jpg.reason"])
        let reason = try String(contentsOfFile: "\(scratch.path)/orphans/W/a.jpg.reason", encoding: .utf8)
        XCTAssertTrue(reason.contains("no T frame"), reason)
    }

    func testResumeFinishesAnInterruptedClaim() throws {
        var intake = SpoolIntake(config: config)
        _ = intake.inspect(try scratch.write(try TestFrames.jpeg(time: moment), to: "spool/W/a.jpg"), now: clock.now)
        guard
            case .claimed(let claimed, _)? = intake.inspect(
                try scratch.write(try TestFrames.jpeg(time: moment), to: "spool/T/a.jpg"), now: clock.now
            ).first
        else { return XCTFail("not claimed") }
        // As if the daemon died after the folder appeared but before T moved in; plus a staging
        // folder of a claim that never got renamed.
        try FileManager.default.moveItem(atPath: "\(claimed.folder)/T/a.jpg", toPath: "\(scratch.path)/spool/T/a.jpg")
        try FileManager.default.createDirectory(atPath: "\(scratch.path)/work/.claim-x", withIntermediateDirectories: true)
        let (claims, problems) = SpoolStore(paths: config.paths).resumeClaims()
        XCTAssertEqual(claims, [claimed])
        XCTAssertTrue(problems.isEmpty)
        XCTAssertEqual(scratch.files(in: "spool"), [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(claimed.folder)/T/a.jpg"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(scratch.path)/work/.claim-x"))
    }

    func testWorkerPublishesOnceAndArchives() throws {
        let (claimed, completedAt) = try claimedPair()
        let worker = try worker(config)
        guard case .published(let record, _, _) = try worker.run(claimed, completedAt: completedAt) else {
            return XCTFail("not published")
        }
        let id = claimed.manifest.id
        XCTAssertEqual(record.size, [96, 64])
        XCTAssertEqual(record.timeDifferenceMs, 10, accuracy: 0.5)
        XCTAssertEqual(scratch.files(in: "out"), ["2026-09-21/\(id).jpg", "2026-09-21/\(id).json", "latest.jpg"])
        XCTAssertEqual(
            scratch.files(in: "archive"),
            [
                "2026-09-21/\(id)/T/a.jpg", "2026-09-21/\(id)/W/a.jpg",
                "2026-09-21/\(id)/manifest.json",
            ])
        let sidecar = try Publisher.readRecord(at: "\(scratch.path)/out/2026-09-21/\(id).json")
        XCTAssertEqual(sidecar.pair, record.pair)
        XCTAssertEqual(sidecar.image, "\(id).jpg")
        XCTAssertEqual(sidecar.otherOutputs, [], "one zoom, one image")
        XCTAssertEqual(sidecar.timingsMs, record.timingsMs)
        XCTAssertEqual(sidecar.inputs.map(\.name), ["W/a.jpg", "T/a.jpg"])
        XCTAssertEqual(sidecar.inputs[0].timestamp.timeIntervalSince1970, moment.timeIntervalSince1970, accuracy: 0.001)
        XCTAssertEqual(sidecar.inputs.first { $0.role == .wide }?.archivedAt, "\(scratch.path)/archive/2026-09-21/\(id)/W/a.jpg")
    }

    /// What fails once the sidecar is in place takes nothing back: `latest.jpg` that cannot be
    /// replaced (here a folder) and an archive that cannot be made (here a file where the day's
    /// folder goes) are reported, the images and sidecar stay, and the next try archives the pair
    /// and points `latest.jpg` at it (as after a daemon stopped between sidecar and link).
    func testFailuresAfterTheSidecarLeaveThePairPublished() throws {
        let (claimed, completedAt) = try claimedPair()
        try scratch.write([0], to: "out/latest.jpg/in the way")
        try scratch.write([0], to: "archive/2026-09-21")
        let worker = try worker(config)
        guard case .published(_, let afterwards, let archived) = try worker.run(claimed, completedAt: completedAt) else {
            return XCTFail("not published")
        }
        XCTAssertEqual(afterwards.count, 2, "\(afterwards)")
        XCTAssertTrue(afterwards[0].hasPrefix("cannot move \(scratch.path)/out/.latest.jpg.tmp to \(scratch.path)/out/latest.jpg"), afterwards[0])
        XCTAssertTrue(afterwards[1].hasPrefix("cannot archive its inputs: "), afterwards[1])
        XCTAssertFalse(archived)
        let id = claimed.manifest.id
        XCTAssertEqual(scratch.files(in: "out/2026-09-21"), ["\(id).jpg", "\(id).json"])
        try FileManager.default.removeItem(atPath: "\(scratch.path)/archive/2026-09-21")
        try FileManager.default.removeItem(atPath: "\(scratch.path)/out/latest.jpg")
        guard case .alreadyPublished = try worker.run(claimed, completedAt: completedAt) else { return XCTFail("published again") }
        XCTAssertEqual(scratch.files(in: "archive/2026-09-21"), ["\(id)/T/a.jpg", "\(id)/W/a.jpg", "\(id)/manifest.json"])
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "\(scratch.path)/out/latest.jpg"), "2026-09-21/\(id).jpg")
    }

    /// A pair that fails (here its day's output folder is a file) counts each failure in its
    /// manifest, though the queue holds the manifest of its first try.
    func testEachFailedTryIsCountedInTheManifest() throws {
        let (claimed, completedAt) = try claimedPair()
        try scratch.write([0], to: "out/2026-09-21")
        let worker = try worker(config)
        for _ in 0..<3 { XCTAssertThrowsError(try worker.run(claimed, completedAt: completedAt)) }
        let manifest = try ClaimManifest.read(inPairFolder: claimed.folder)
        XCTAssertEqual([manifest.failures, manifest.attempts], [3, 0])
    }

    /// Without archived inputs, a second pair of the same name and time (a camera that
    /// names every frame alike, its clock in whole seconds) gets its own id, where it was taken
    /// for the first one, already published, and its inputs deleted.
    func testARepeatedIDIsNotTakenForAPublishedPair() throws {
        let config = try DaemonConfig.parse("archive: {keep_inputs: false}", relativeTo: scratch.path)
        let worker = try worker(config)
        var ids: [String] = []
        for seed in [1, 2] {
            let (claimed, completedAt) = try claimedPair(config, seeds: (seed, seed + 2), teleAfter: 0)
            guard case .published = try worker.run(claimed, completedAt: completedAt) else { return XCTFail("not published") }
            ids.append(claimed.manifest.id)
        }
        XCTAssertEqual(ids, ["20260921-141320.250_a", "20260921-141320.250_a-2"])
        XCTAssertEqual(scratch.files(in: "out/2026-09-21"), ids.flatMap { ["\($0).jpg", "\($0).json"] }.sorted())
    }

    /// A try that the daemon dies in leaves its count in the manifest, which restarts read: at
    /// intake.max_crashes_per_pair (3) the pair is quarantined unprocessed; below, it is tried.
    func testAPairInHandAtThreeCrashesIsQuarantinedAndTheOthersAreTried() throws {
        var intake = SpoolIntake(config: config)
        var claims: [ClaimedPair] = []
        for (name, seconds) in [("poison", 0.0), ("twice", 1.0)] {
            _ = intake.inspect(try scratch.write(try TestFrames.jpeg(time: moment + seconds), to: "spool/W/\(name).jpg"), now: clock.now)
            let tele = try scratch.write(try TestFrames.jpeg(time: moment + seconds, seed: 2), to: "spool/T/\(name).jpg")
            guard case .claimed(let claimed, _)? = intake.inspect(tele, now: clock.now).first else { return XCTFail("\(name) not claimed") }
            claims.append(claimed)
        }
        let store = SpoolStore(paths: config.paths)
        func crash(_ id: String) throws {  // a restart, then a try the daemon dies in, as the worker begins one
            let resumed = try XCTUnwrap(store.resumeClaims().claims.first { $0.manifest.id == id })
            _ = try store.updateManifest(of: resumed) { $0.attempts += 1 }
        }
        for _ in 0..<3 { try crash(claims[0].manifest.id) }
        for _ in 0..<2 { try crash(claims[1].manifest.id) }

        let resumed = store.resumeClaims().claims
        XCTAssertEqual(resumed.map(\.manifest.attempts), [3, 2])
        let worker = try worker(config)
        guard case .quarantined(_, _, let reason, _, let movedTo) = try worker.run(resumed[0], completedAt: clock.now) else {
            return XCTFail("the poison pair was tried a fourth time")
        }
        XCTAssertEqual(reason, "the daemon died 3 times while this pair was in hand (killed, crashed or out of memory; limit 3)")
        XCTAssertEqual(try String(contentsOfFile: movedTo + ".reason", encoding: .utf8), reason + "\n")
        guard case .published = try worker.run(resumed[1], completedAt: clock.now) else { return XCTFail("not published") }
        XCTAssertEqual(scratch.files(in: "work"), [])
    }

    /// Names up to NAME_MAX (255 bytes, here in three-byte characters too), with a newline, a
    /// leading dash or spaces: each pair is claimed, published and archived under a name the
    /// file system takes (long ones cut, with a hash that keeps two of one beginning apart), and
    /// a bad frame of such a name is quarantined with its `.reason` beside it.
    func testAnyNameAFolderCanHoldIsClaimedPublishedAndQuarantined() throws {
        let long = String(repeating: "a", count: 251), sameStart = String(repeating: "a", count: 250) + "b"
        let names = [long, sameStart, String(repeating: "☀", count: 83), "-rf line\nbreak", " --help "]
        var intake = SpoolIntake(config: config)
        let worker = try worker(config)
        var ids: Set<String> = []
        for (index, name) in names.enumerated() {
            let time = moment + Double(index)
            _ = intake.inspect(try scratch.write(try TestFrames.jpeg(time: time), to: "spool/W/\(name).jpg"), now: clock.now)
            let tele = try scratch.write(try TestFrames.jpeg(time: time, seed: 2), to: "spool/T/\(name).jpg")
            guard case .claimed(let claimed, _)? = intake.inspect(tele, now: clock.now).first else {
                return XCTFail("\(name.utf8.count) bytes: not claimed")
            }
            XCTAssertLessThanOrEqual(claimed.manifest.id.utf8.count, 200)
            ids.insert(claimed.manifest.id)
            guard case .published(let record, _, _) = try worker.run(claimed, completedAt: clock.now) else {
                return XCTFail("\(name.utf8.count) bytes: not published")
            }
            XCTAssertEqual(record.inputs.map(\.name), ["W/\(name).jpg", "T/\(name).jpg"])
            XCTAssertTrue(FileManager.default.fileExists(atPath: try XCTUnwrap(record.inputs[0].archivedAt)))
        }
        XCTAssertEqual(ids.count, names.count, "two long names of one beginning stay apart")
        XCTAssertEqual(scratch.files(in: "work") + scratch.files(in: "spool"), [])

        let path = try scratch.write(Array("not a JPEG".utf8), to: "spool/W/\(long).jpg")
        _ = intake.inspect(path, now: clock.now)
        Thread.sleep(forTimeInterval: 0.25)  // the settle time
        let outcomes = intake.tick(now: clock.now)
        guard case .quarantined(_, let reason, _, let movedTo)? = outcomes.first else { return XCTFail("\(outcomes)") }
        XCTAssertEqual(try String(contentsOfFile: movedTo + ".reason", encoding: .utf8), reason + "\n")
        XCTAssertTrue(movedTo.hasSuffix(".jpg"), movedTo)
    }

    /// Names that are not valid UTF-8 (Latin-1 from an old camera, a cut multi-byte character)
    /// are renamed in place, each bad byte as `%XX`, then paired and claimed like any other.
    func testNamesThatAreNotUTF8AreRenamedThenTakenIn() throws {
        let latin1 = Array("caf".utf8) + [0xE9] + Array(".jpg".utf8), cut = Array("x".utf8) + [0xC3, 0x28] + Array(".jpg".utf8)
        try scratch.write(try TestFrames.jpeg(time: moment), toFolder: "spool/W", rawName: latin1)
        try scratch.write(try TestFrames.jpeg(time: moment, seed: 2), toFolder: "spool/T", rawName: cut)
        var intake = SpoolIntake(config: config)
        let outcomes = intake.scan(now: clock.now)
        let renamed = outcomes.compactMap { outcome -> String? in
            guard case .renamed(let file, let movedTo) = outcome else { return nil }
            XCTAssertEqual(file, movedTo)
            return movedTo.replacingOccurrences(of: scratch.path + "/", with: "")
        }
        XCTAssertEqual(renamed.sorted(), ["spool/T/x%C3(.jpg", "spool/W/caf%E9.jpg"])
        guard case .claimed(let claimed, _)? = outcomes.last else { return XCTFail("\(outcomes)") }
        XCTAssertEqual(claimed.manifest.inputs.map(\.name), ["W/caf%E9.jpg", "T/x%C3(.jpg"])
        XCTAssertEqual(scratch.files(in: "spool"), [])
    }

    /// A tree deeper than a path can name (PATH_MAX) cannot be opened below that depth: the first
    /// entry past it is reported as left in place, and the pairs elsewhere are taken in.
    func testFilesBelowPATHMAXAreReportedAndTheRestTakenIn() throws {
        let top = "\(scratch.path)/spool/deep"
        try FileManager.default.createDirectory(atPath: top, withIntermediateDirectories: true)
        defer { _ = try? Process.run(URL(fileURLWithPath: "/bin/rm"), arguments: ["-rf", top]).waitUntilExit() }
        var folder = open(top, O_RDONLY | O_DIRECTORY), depth = top.utf8.count
        for level in 0..<22 {  // made relative to each other: no call takes a longer path
            let name = String(repeating: "d", count: 200) + "\(level)"
            XCTAssertEqual(mkdirat(folder, name, 0o755), 0)
            let inner = openat(folder, name, O_RDONLY | O_DIRECTORY)
            close(folder)
            (folder, depth) = (inner, depth + 1 + name.utf8.count)
        }
        let frame = try TestFrames.jpeg(time: moment)
        let file = openat(folder, "deep_W.jpg", O_WRONLY | O_CREAT, 0o644)
        XCTAssertEqual(frame.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }, frame.count)
        close(file)
        close(folder)
        XCTAssertGreaterThan(depth, Int(PATH_MAX))
        try scratch.write(try TestFrames.jpeg(time: moment + 5), to: "spool/W/shallow.jpg")
        try scratch.write(try TestFrames.jpeg(time: moment + 5, seed: 2), to: "spool/T/shallow.jpg")

        var intake = SpoolIntake(config: config)
        let outcomes = intake.scan(now: clock.now)
        let left = outcomes.compactMap { outcome -> String? in
            guard case .left(_, let reason) = outcome else { return nil }
            return reason
        }
        XCTAssertEqual(left.count, 1, "\(left)")
        XCTAssertTrue(left.first?.hasSuffix("longer than a path may be (PATH_MAX, 4096): left in place") ?? false, "\(left)")
        XCTAssertEqual(outcomes.filter { if case .claimed = $0 { true } else { false } }.count, 1, "\(outcomes)")
    }

    func testOnlyBytesOutsideValidUTF8AreEscaped() {
        XCTAssertEqual(InvalidNames.escaped(Array("☀ a%b".utf8)), "☀ a%b")
        XCTAssertEqual(InvalidNames.escaped([0xC0, 0xAF, 0x41]), "%C0%AFA", "an overlong '/'")
        XCTAssertEqual(InvalidNames.escaped([0xE2, 0x98, 0x41, 0xED, 0xA0, 0x80]), "%E2%98A%ED%A0%80", "a cut sequence, a surrogate")
    }

    /// A camera that goes on writing into a frame after it looked complete (its descriptor still
    /// open across the claim's rename): the worker finds the file no longer as intake read it
    /// and quarantines the pair with both states, rather than fuse a frame nobody can name.
    func testAFrameWrittenToAfterIntakeIsQuarantinedWithBothStates() throws {
        var intake = SpoolIntake(config: config)
        let frame = try TestFrames.jpeg(time: moment)
        _ = intake.inspect(try scratch.write(frame, to: "spool/W/late.jpg"), now: clock.now)
        let teleFrame = try TestFrames.jpeg(time: moment, seed: 2)
        let tele = try scratch.write(teleFrame, to: "spool/T/late.jpg")
        guard case .claimed(let claimed, _)? = intake.inspect(tele, now: clock.now).first else { return XCTFail("not claimed") }
        XCTAssertEqual(claimed.manifest.inputs.map { $0.file?.bytes }, [frame.count, teleFrame.count])

        let wide = try FileHandle(forWritingTo: URL(fileURLWithPath: claimed.path(of: claimed.manifest.inputs[0])))
        try wide.seekToEnd()
        try wide.write(contentsOf: Data(repeating: 0, count: 100))
        try wide.close()
        guard case .quarantined(_, let file, let reason, let kind, _) = try worker(config).run(claimed, completedAt: clock.now) else {
            return XCTFail("processed a frame that changed")
        }
        XCTAssertEqual(file, "W/late.jpg")
        XCTAssertEqual(kind, .changedAfterIntake)
        XCTAssertTrue(reason.hasPrefix("W/late.jpg was written to after it was taken in: \(frame.count) bytes, modified "), reason)
        XCTAssertTrue(reason.contains(" then, \(frame.count + 100) bytes, modified "), reason)
    }

    /// A pair whose estimated peak is above `intake.memory_budget_mb` is quarantined before it
    /// is decoded, the estimate in the reason; a pair within it is published.
    func testAPairOverTheMemoryBudgetIsQuarantinedBeforeDecoding() throws {
        config = try DaemonConfig.parse("intake: {settle_time: 0.2, memory_budget_mb: 250}\n", relativeTo: scratch.path)
        var intake = SpoolIntake(config: config)
        let worker = try worker(config)
        var outcomes: [PairOutcome] = []
        for (name, size) in [("big", Size(width: 2400, height: 1800)), ("small", Size(width: 160, height: 120))] {
            _ = intake.inspect(try scratch.write(try TestFrames.jpeg(size, time: moment), to: "spool/W/\(name).jpg"), now: clock.now)
            let tele = try scratch.write(try TestFrames.jpeg(size, time: moment, seed: 2), to: "spool/T/\(name).jpg")
            guard case .claimed(let claimed, _)? = intake.inspect(tele, now: clock.now).first else { return XCTFail("\(name) not claimed") }
            outcomes.append(try worker.run(claimed, completedAt: clock.now))
        }
        guard case .quarantined(_, let file, let reason, _, _) = outcomes[0] else { return XCTFail("\(outcomes[0])") }
        XCTAssertEqual(file, "W/big.jpg")
        XCTAssertEqual(reason, "W 2400×1800 and T 2400×1800 would take about 257 MB, above intake.memory_budget_mb (250)")
        guard case .published = outcomes[1] else { return XCTFail("\(outcomes[1])") }
    }

    /// The outputs count too: frames well within the budget, but made into images of 3000×3000
    /// at three zooms, are refused with the outputs named, rather than the daemon killed for
    /// memory. (Outputs over the budget on their own are refused with the config.)
    func testOutputsCountTowardsTheMemoryBudget() throws {
        config = try DaemonConfig.parse(
            "intake: {memory_budget_mb: 408}\noutput: {zoom: [tele, 1, 4], size: [3000, 3000]}\n", relativeTo: scratch.path)
        var intake = SpoolIntake(config: config)
        let size = Size(width: 640, height: 480)
        _ = intake.inspect(try scratch.write(try TestFrames.jpeg(size, time: moment), to: "spool/W/a.jpg"), now: clock.now)
        let tele = try scratch.write(try TestFrames.jpeg(size, time: moment, seed: 2), to: "spool/T/a.jpg")
        guard case .claimed(let claimed, _)? = intake.inspect(tele, now: clock.now).first else { return XCTFail("not claimed") }
        let outcome = try worker(config).run(claimed, completedAt: clock.now)
        guard case .quarantined(_, _, let reason, _, _) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(
            reason,
            "W 640×480 and T 640×480 with 3 outputs of 3000×3000, 3000×3000, 3000×3000 would take about 410 MB,"
                + " above intake.memory_budget_mb (408)")
    }

    /// `spool/W/a.jpg` and `spool/T/a.jpg`, `teleAfter` seconds apart, taken in and claimed.
    private func claimedPair(
        _ config: DaemonConfig? = nil, seeds: (Int, Int) = (1, 2), teleAfter: Double = 0.01
    ) throws -> (ClaimedPair, ContinuousClock.Instant) {
        var intake = SpoolIntake(config: config ?? self.config)
        _ = intake.inspect(try scratch.write(try TestFrames.jpeg(time: moment, seed: seeds.0), to: "spool/W/a.jpg"), now: clock.now)
        let tele = try scratch.write(try TestFrames.jpeg(time: moment + teleAfter, seed: seeds.1), to: "spool/T/a.jpg")
        let outcomes = intake.inspect(tele, now: clock.now)
        guard case .claimed(let claimed, let completedAt)? = outcomes.first else { throw SpoolError("not claimed: \(outcomes)") }
        return (claimed, completedAt)
    }

    /// `folder` made a file, so that nothing can be moved into it.
    private func replaceWithFile(_ folder: String) throws {
        try FileManager.default.removeItem(atPath: folder)
        XCTAssertTrue(FileManager.default.createFile(atPath: folder, contents: Data()))
    }

    private func worker(_ config: DaemonConfig) throws -> PairWorker {
        let fusion = try FusionStage(config.fusion)
        return PairWorker(config: config, pipeline: config.pipeline(fusion), madeWith: try MadeWith(fusion: fusion, configFile: nil))
    }
}
