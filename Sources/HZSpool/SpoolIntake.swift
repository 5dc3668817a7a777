import Foundation
import HZImageIO

/// What intake did with a file or a pair; the daemon turns each into a journal entry.
public enum IntakeOutcome: Sendable {
    /// A complete frame is waiting for its partner.
    case waiting(Frame)
    /// A pair moved into `work/` and is ready to process; `completedAt` starts its latency.
    case claimed(ClaimedPair, completedAt: ContinuousClock.Instant)
    /// A bad input was set aside.
    case quarantined(file: String, reason: String, kind: SetAsideKind, movedTo: String)
    /// A frame found no partner in time.
    case orphaned(Frame, reason: String, movedTo: String)
    /// Something named like a frame that is left where it is, and why.
    case left(file: String, reason: String)
    /// A name that is not valid UTF-8 (`file`, its bad bytes written `%XX`) was renamed in place
    /// to `movedTo`, which intake takes in as it would any new file.
    case renamed(file: String, movedTo: String)
    /// Something went wrong moving files; the input stays where it is.
    case failed(file: String, reason: String)
    /// A pair stays in the spool until its claim has the disk space and descriptors it needs
    /// (`ResourceCheck`), looked at again after `SpoolIntake.retryDelay`.
    case claimWaits(reason: String)
}

/// Takes files from the spool to claimed pairs: checks that a JPEG is complete, tells W from T,
/// places it in time, pairs it, and sets aside what is bad or alone for too long.
///
/// A file that does not parse as a complete JPEG may still be being written, so it is only
/// quarantined once it has stayed unchanged for `intake.settle_time`: the parse decides, the
/// timer only decides when to stop waiting.
public struct SpoolIntake: Sendable {
    public var config: DaemonConfig
    public private(set) var pairer = Pairer()
    private var unsettled: [String: Unsettled] = [:]
    /// Files with more than one name, by identity, each with the name it was taken in by: a second
    /// name of one of them would process the same frame twice.
    private var linkedFiles: [FileFingerprint: String] = [:]
    /// Files that could not be moved where they belong (a pair's claim, or a file set aside in
    /// quarantine or orphans: a full or failing disk), with when to look at them again.
    private var retries: [String: ContinuousClock.Instant] = [:]
    /// How long such a file waited last: doubled at each failure, so that one that keeps failing
    /// (an input the daemon may not move) is not tried, and journaled, every 2 s for ever.
    private var retryWaits: [String: Duration] = [:]
    private let store: SpoolStore

    private struct Unsettled: Sendable {
        var fingerprint: FileFingerprint
        var since: ContinuousClock.Instant
    }

    public init(config: DaemonConfig) {
        self.config = config
        self.store = SpoolStore(paths: config.paths)
    }

    public var waitingCount: Int { pairer.waiting.count }

    /// Looks at one path after an event or during a scan.
    public mutating func inspect(_ path: String, now: ContinuousClock.Instant) -> [IntakeOutcome] {
        // A file whose move failed waits for its retry, whatever events its move back raised.
        guard retries[path] == nil else { return [] }
        guard let relative = relativePath(of: path) else { return [] }
        let name = (path as NSString).lastPathComponent
        let recognizer = FrameRecognizer(config: config)
        if isSymbolicLink(path) {
            return [quarantine(path, relative, "a symbolic link; links in the spool are not followed", .link, now)]
        }
        guard recognizer.isCandidate(name: name), let fingerprint = FileFingerprint(path: path) else {
            forget(path)
            return []
        }
        if fingerprint.isDirectory {
            return [.left(file: relative, reason: "a folder named like a frame: left in place, the frames inside it are taken in")]
        }
        guard fingerprint.isRegularFile else { return [quarantine(path, relative, "not a regular file but \(fingerprint.kind)", .notAFile, now)] }
        if fingerprint.links > 1, let first = linkedFiles[fingerprint], first != relative {
            return [quarantine(path, relative, "a second name (hard link) of \(first), which was taken in already", .hardLink, now)]
        }
        switch readFrame(path, relative, fingerprint, recognizer, now) {
        case .success(let frame):
            unsettled[path] = nil
            if fingerprint.links > 1 { rememberLinked(fingerprint, relative) }
            return pair(frame, now)
        case .failure(.unfinished):
            if unsettled[path]?.fingerprint != fingerprint {
                unsettled[path] = Unsettled(fingerprint: fingerprint, since: now)
            }
            return []
        case .failure(.rejected(let reason)):
            return [quarantine(path, relative, reason, .unusableFrame, now)]
        }
    }

    /// Bounded: an identity also holds size and modification time, so a reused inode is a new
    /// file, and the oldest half is dropped past 10 000.
    private mutating func rememberLinked(_ fingerprint: FileFingerprint, _ relative: String) {
        if linkedFiles.count >= 10_000 {
            for key in linkedFiles.keys.sorted(by: { $0.modified < $1.modified }).prefix(5_000) { linkedFiles[key] = nil }
        }
        linkedFiles[fingerprint] = relative
    }

    /// A file or folder has left the spool (by our own move, or someone else's): a folder's
    /// frames go with it (moved within the spool, they are taken in again under their new
    /// paths). A file that is back (its claim undone) keeps its retry.
    public mutating func forget(_ path: String) {
        func isGone(_ other: String) -> Bool { other == path || isInside(other, path) }
        for key in unsettled.keys where isGone(key) { unsettled[key] = nil }
        pairer.remove { isGone($0.path) }
        guard !lstatExists(path) else { return }
        for key in retries.keys where isGone(key) { retries[key] = nil }
        for key in retryWaits.keys where isGone(key) { retryWaits[key] = nil }
    }

    /// How long a file that could not be moved waits before it is looked at again; after
    /// another failure, twice as long as the last time, up to `retryLimit`.
    static let retryDelay = Duration.seconds(2)
    static let retryLimit = Duration.seconds(600)

    /// Schedules `paths` to be looked at again, and returns after how long.
    private mutating func retryLater(_ paths: [String], now: ContinuousClock.Instant) -> Duration {
        let wait = min(paths.compactMap { retryWaits[$0] }.max().map { $0 * 2 } ?? Self.retryDelay, Self.retryLimit)
        for path in paths { (retries[path], retryWaits[path]) = (now + wait, wait) }
        return wait
    }

    /// Runs the timers: quarantines files that stayed incomplete past the settle time, sets
    /// aside frames that waited past the orphan timeout, and tries again to claim pairs a full
    /// or failing disk refused.
    public mutating func tick(now: ContinuousClock.Instant) -> [IntakeOutcome] {
        var outcomes: [IntakeOutcome] = []
        for (path, due) in retries where now >= due {
            retries[path] = nil
            outcomes += inspect(path, now: now)
        }
        let settle = Duration.milliseconds(Int64(config.intake.settleTime * 1000))
        for (path, state) in unsettled where now - state.since >= settle {
            unsettled[path] = nil
            guard let relative = relativePath(of: path), let fingerprint = FileFingerprint(path: path) else { continue }
            if fingerprint != state.fingerprint {  // written to since: wait again
                unsettled[path] = Unsettled(fingerprint: fingerprint, since: now)
                continue
            }
            switch readFrame(path, relative, fingerprint, FrameRecognizer(config: config), now) {
            case .success(let frame): outcomes += pair(frame, now)
            case .failure(.unfinished(let reason)), .failure(.rejected(let reason)):
                outcomes.append(quarantine(path, relative, "\(reason), unchanged for \(config.intake.settleTime) s", .unusableFrame, now))
            }
        }
        for frame in pairer.expire(now: now, timeout: config.pairing.orphanTimeout) {
            let reason =
                "no \(frame.role.other.rawValue) frame within \(config.pairing.tolerance) s of its timestamp"
                + " \(TimeFormat.iso8601(frame.timestamp)) after waiting \(config.pairing.orphanTimeout) s"
            do {
                let moved = try store.setAside(frame.path, as: frame.relativePath, in: config.paths.orphans, reason: reason)
                retryWaits[frame.path] = nil
                outcomes.append(.orphaned(frame, reason: reason, movedTo: moved))
            } catch {
                // Looked at again later: paired by then, or set aside once the disk lets it.
                let wait = retryLater([frame.path], now: now)
                outcomes.append(.failed(file: frame.path, reason: "cannot move it to orphans: \(error); looking at it again in \(wait)"))
            }
        }
        return outcomes
    }

    /// Every file below `folder` (by default the spool: at start-up and after an event-queue
    /// overflow), oldest first, as if each had just arrived; names that are not valid UTF-8 are
    /// renamed first.
    /// `progress` is called after each file: a scan of a spool that filled while the daemon was
    /// down can take longer than the watchdog waits, and must not look like a stuck daemon.
    public mutating func scan(
        below folder: String? = nil, now: ContinuousClock.Instant, progress: () -> Void = {}
    ) -> [IntakeOutcome] {
        var outcomes: [IntakeOutcome] = []
        let files = scanFiles(below: folder ?? config.paths.spool, reporting: &outcomes)
        for file in files {
            outcomes += inspect(file, now: now)
            progress()
        }
        return outcomes
    }

    /// Renames each entry of `folder` whose name is not valid UTF-8 (`InvalidNames`), keeping
    /// clear of names already there.
    public func renameInvalidNames(in folder: String) -> [IntakeOutcome] {
        InvalidNames.find(in: folder).map { name in
            let escaped = InvalidNames.escaped(name)
            let file = "\(folder)/\(escaped)", destination = uniquePath("\(folder)/\(bounded(escaped, bytes: 230))")
            do {
                try InvalidNames.rename(name, in: folder, to: destination)
                return .renamed(file: file, movedTo: destination)
            } catch {
                return .failed(file: file, reason: "its name is not valid UTF-8, and \(error)")
            }
        }
    }

    /// Files below `folder`, oldest first. Symbolic links are listed, never followed: a link to
    /// a folder elsewhere must not let intake move files out of that folder.
    private func scanFiles(below folder: String, reporting outcomes: inout [IntakeOutcome]) -> [String] {
        var found: [(path: String, modified: Date)] = []
        var folders = [folder]
        while let current = folders.popLast() {
            guard current.utf8.count < PATH_MAX else {
                outcomes.append(tooLong(current))
                continue
            }
            outcomes += renameInvalidNames(in: current)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: current)) ?? []
            where !FrameRecognizer.isTemporary(name: name) {
                let path = "\(current)/\(name)"
                guard path.utf8.count < PATH_MAX else {
                    outcomes.append(tooLong(path))
                    continue
                }
                guard let fingerprint = FileFingerprint(path: path) else { continue }
                if fingerprint.isDirectory { folders.append(path) } else { found.append((path, fingerprint.modified)) }
            }
        }
        return found.sorted { $0.modified < $1.modified }.map(\.path)
    }

    /// The kernel takes no path this long: neither the file nor anything below it can be opened
    /// or moved (a tree copied in from a deeper file system). Said once per scan.
    private func tooLong(_ path: String) -> IntakeOutcome {
        let reason = "its path is \(path.utf8.count) bytes, longer than a path may be (PATH_MAX, \(PATH_MAX)): left in place"
        return .left(file: relativePath(of: path) ?? path, reason: reason)
    }

    private enum FrameProblem: Error {
        case unfinished(String)  // may still be being written
        case rejected(String)  // complete, but not usable
    }

    private func readFrame(
        _ path: String, _ relative: String, _ fingerprint: FileFingerprint,
        _ recognizer: FrameRecognizer, _ now: ContinuousClock.Instant
    ) -> Result<Frame, FrameProblem> {
        let limit = config.intake.maxFileBytes
        guard fingerprint.state.bytes <= limit else {
            return .failure(
                .rejected(
                    "\(fingerprint.state.bytes) bytes, more than a frame of intake.max_megapixels can be"
                        + " (\(limit) bytes): not read"))
        }
        let bytes: [UInt8]
        do {
            bytes = try readBytes(path, atMost: limit)
        } catch {
            return .failure(.unfinished("\(error)"))
        }
        // What the walk below judges must be the file that is claimed: the state it was read in
        // goes into the manifest, and the worker checks it again (`FileState`).
        guard fingerprint.state.bytes == bytes.count, FileFingerprint(path: path) == fingerprint else {
            return .failure(.unfinished("written to while it was read"))
        }
        let structure = JPEGStructure(scanning: bytes)
        switch structure.status {
        case .complete: break
        case .empty: return .failure(.unfinished("\(JPEGError.empty)"))
        case .notJPEG: return .failure(.unfinished("\(JPEGError.notJPEG(firstBytes: Array(bytes.prefix(4))))"))
        case .truncated(let reason): return .failure(.unfinished("\(JPEGError.truncated(reason))"))
        case .malformed(let reason): return .failure(.unfinished("\(JPEGError.malformed(reason))"))
        }
        if let size = structure.frameSize, size.pixelCount > config.intake.maxPixels {
            return .failure(.rejected("\(JPEGError.tooManyPixels(size, limit: config.intake.maxPixels))"))
        }
        guard let role = recognizer.role(ofRelativePath: relative) else {
            return .failure(.rejected("cannot tell whether it is from W or T: not in a role folder and its name matches no role pattern"))
        }
        // From the walk above, not a second one. An unreadable EXIF block costs only the EXIF
        // timestamp: the file name or mtime stands in.
        let exif = structure.exifPayloadRange.flatMap { try? EXIF(app1Payload: Array(bytes[$0])) } ?? EXIF()
        let (timestamp, source) = recognizer.timestamp(
            exif: exif, name: (path as NSString).lastPathComponent,
            modified: fingerprint.modified, role: role)
        return .success(
            Frame(
                path: path, relativePath: relative, role: role, timestamp: timestamp,
                timestampSource: source, arrival: now, pixelSize: structure.frameSize, file: fingerprint.state))
    }

    private mutating func pair(_ frame: Frame, _ now: ContinuousClock.Instant) -> [IntakeOutcome] {
        let pairs = pairer.add(frame, tolerance: config.pairing.tolerance)
        guard !pairs.isEmpty else { return [.waiting(frame)] }
        return pairs.map { pair in
            let zone = config.timestamps.timeZone
            let stem = ((pair.wide.name as NSString).deletingPathExtension)
            // Room left under NAME_MAX for `.claim-`, `-2`, `@1.5x.jpg` and temporary names.
            let id = bounded("\(TimeFormat.compactStamp(pair.wide.timestamp, in: zone))_\(stem)", bytes: 200)
            if let shortage = ResourceCheck.shortage(config.paths, minimumFree: config.intake.minFreeSpace) {
                for frame in [pair.wide, pair.tele] { retries[frame.path] = now + Self.retryDelay }
                return .claimWaits(reason: shortage)
            }
            let paths = [pair.wide.path, pair.tele.path]
            do {
                let claimed = try store.claim(pair, id: id, day: TimeFormat.day(pair.wide.timestamp, in: zone))
                for path in paths { retryWaits[path] = nil }
                return .claimed(claimed, completedAt: now)
            } catch {
                let wait = retryLater(paths, now: now)
                return .failed(
                    file: pair.wide.path,
                    reason: "cannot claim the pair with \(pair.tele.path): \(error); trying again in \(wait)")
            }
        }
    }

    private mutating func quarantine(
        _ path: String, _ relative: String, _ reason: String, _ kind: SetAsideKind, _ now: ContinuousClock.Instant
    ) -> IntakeOutcome {
        forget(path)
        do {
            let moved = try store.setAside(path, as: relative, in: config.paths.quarantine, reason: reason)
            retryWaits[path] = nil
            return .quarantined(file: relative, reason: reason, kind: kind, movedTo: moved)
        } catch {
            let wait = retryLater([path], now: now)
            return .failed(file: path, reason: "cannot quarantine (\(reason)): \(error); trying again in \(wait)")
        }
    }

    private func relativePath(of path: String) -> String? {
        let prefix = config.paths.spool + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : nil
    }
}

/// A file's identity (device and inode), size, modification time and type, read with lstat:
/// enough to tell whether it changed between two looks, and two names of one file apart.
struct FileFingerprint: Sendable, Hashable {
    var device: UInt64
    var inode: UInt64
    /// Its length and modification time, as the manifest records them.
    var state: FileState
    var mode: UInt32
    /// Its names (hard links), not part of its identity.
    var links: Int

    var modified: Date { Date(timeIntervalSince1970: Double(state.modifiedNanoseconds) / 1e9) }
    var isRegularFile: Bool { mode == S_IFREG }
    var isDirectory: Bool { mode == S_IFDIR }

    /// What it is, in words.
    var kind: String {
        switch mode {
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFDIR: "a folder"
        default: "an unknown kind of file"
        }
    }

    init?(path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        (device, inode, links) = (UInt64(info.st_dev), UInt64(info.st_ino), Int(info.st_nlink))
        state = FileState(info)
        mode = info.st_mode & S_IFMT
    }

    static func == (a: Self, b: Self) -> Bool {
        (a.device, a.inode, a.state, a.mode) == (b.device, b.inode, b.state, b.mode)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(device)
        hasher.combine(inode)
        hasher.combine(state)
    }
}
