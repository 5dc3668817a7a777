import CInotifyTools
import Foundation
import Synchronization

/// What happened in the spool, as far as intake cares.
public enum SpoolEvent: Sendable, Equatable {
    /// A file was closed after writing, renamed into the spool, or a symlink was created.
    case changed(path: String)
    /// A file left the spool (renamed away or deleted).
    case gone(path: String)
    /// Something arrived in `folder` under a name that is not valid UTF-8
    /// (`SpoolIntake.renameInvalidNames(in:)`).
    case invalidName(folder: String)
    /// A folder appeared (created or moved in, perhaps with files already inside).
    case folderAppeared(path: String)
    /// A folder left its place (moved elsewhere in the spool or out of it). The kernel keeps its
    /// watches, which would go on reporting its files under the old name, so every watch was set
    /// up anew; events queued meanwhile were dropped with the old watches, so the spool must be
    /// rescanned.
    case folderMoved(path: String)
    /// The kernel's event queue overflowed: events were lost, so every watch was set up anew
    /// (folders made during the burst included); the spool must be rescanned.
    case overflow
    /// The spool folder itself was removed, moved away or became unreadable: nothing is seen until
    /// `SpoolWatcher.rewatch()` succeeds.
    case spoolLost(reason: String)
    /// `rewatch()` set up the watches again: the spool must be rescanned.
    case rewatched
}

/// Watches the spool and its sub-folders with libinotifytools on a thread of its own.
///
/// Writers differ: some write in place (IN_CLOSE_WRITE), gphoto2 and rsync write a temporary
/// name and rename it (IN_MOVED_TO), so both count. IN_CREATE only matters for what never gets a
/// close-write: symbolic links, hard links (`ln`), FIFOs, sockets and device files. libinotifytools keeps process-wide state, so there is one watcher
/// per process and every call into the library happens on its thread.
public final class SpoolWatcher: Sendable {
    public let root: String
    private let stopped = Atomic<Bool>(false)
    private let rewatchRequested = Atomic<Bool>(false)

    private static let mask = Int32(
        IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE
            | IN_DELETE_SELF | IN_MOVE_SELF)

    public init(root: String) { self.root = root }

    /// Starts watching and returns the events. Throws if the spool cannot be watched, before
    /// returning, so the caller can scan the spool knowing that nothing after the scan is missed.
    /// The watching runs on a thread of its own (libinotifytools blocks), which reports its
    /// start through a continuation: no caller's thread ever waits for it.
    public func events() async throws -> AsyncStream<SpoolEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: SpoolEvent.self)
        try await withCheckedThrowingContinuation { (started: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                switch startWatching() {
                case .success:
                    started.resume()
                    run(continuation)
                case .failure(let error):
                    started.resume(throwing: error)
                }
                continuation.finish()
            }
            thread.name = "spool-watcher"
            thread.start()
        }
        continuation.onTermination = { [self] _ in stop() }
        return stream
    }

    /// Ends the event loop within a second.
    public func stop() { stopped.store(true, ordering: .relaxed) }

    /// Sets up every watch anew within a second, after `.spoolLost`: answered by `.rewatched`, or
    /// by `.spoolLost` again while the spool still cannot be watched.
    public func rewatch() { rewatchRequested.store(true, ordering: .relaxed) }

    public struct WatchError: Error, CustomStringConvertible {
        public let description: String
    }

    private func startWatching() -> Result<Void, WatchError> {
        guard inotifytools_initialize() == 1 else {
            return .failure(WatchError(description: "cannot start inotify: \(String(cString: strerror(inotifytools_error())))"))
        }
        guard inotifytools_watch_recursively(root, Self.mask) == 1 else {
            return .failure(WatchError(description: "cannot watch \(root): \(String(cString: strerror(inotifytools_error())))"))
        }
        return .success(())
    }

    /// Drops every watch, stale ones included, and watches the whole tree again. In the middle
    /// of a batch (`draining`), the events libinotifytools has already read carry the old
    /// watches' numbers, which the new ones reuse, and it keeps them past its cleanup: they are
    /// read off first, for as long as they come but 2 s at most (the caller rescans).
    private func restartWatching(draining: Bool) -> Result<Void, WatchError> {
        let until = ContinuousClock.now + .seconds(2)
        while draining, ContinuousClock.now < until, inotifytools_next_event(1) != nil {}
        inotifytools_cleanup()
        return startWatching()
    }

    private func run(_ continuation: AsyncStream<SpoolEvent>.Continuation) {
        while !stopped.load(ordering: .relaxed) {
            if rewatchRequested.exchange(false, ordering: .relaxed) {
                switch restartWatching(draining: false) {
                case .success: continuation.yield(.rewatched)
                case .failure(let error): continuation.yield(.spoolLost(reason: error.description))
                }
            }
            // A one-second timeout bounds how long `stop()` and `rewatch()` take to be noticed.
            guard let event = inotifytools_next_event(1) else { continue }
            if let spoolEvent = translate(event.pointee, name: Self.name(of: event)) {
                continuation.yield(spoolEvent)
            }
        }
        inotifytools_cleanup()
    }

    private func translate(_ event: inotify_event, name: [UInt8]?) -> SpoolEvent? {
        if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
            // Folders created during the burst may have gone unwatched: set every watch up again
            // before the caller rescans, so nothing after the scan is missed.
            if case .failure(let error) = restartWatching(draining: true) { return .spoolLost(reason: error.description) }
            return .overflow
        }
        guard let folder = inotifytools_filename_from_wd(event.wd).map({ String(cString: $0) }) else { return nil }
        let selfEvents = UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)
        if event.mask & selfEvents != 0 {
            // The library keeps folders with a trailing '/'. A sub-folder's own end needs nothing:
            // its parent reported it as gone.
            guard folder == root + "/" else { return nil }
            return .spoolLost(reason: event.mask & UInt32(IN_MOVE_SELF) != 0 ? "moved away" : "removed")
        }
        guard let name else { return nil }
        guard let name = String(validating: name, as: UTF8.self) else {
            return event.mask & UInt32(IN_MOVED_FROM | IN_DELETE) != 0 ? nil : .invalidName(folder: String(folder.dropLast()))
        }
        let path = folder + name
        let isFolder = event.mask & UInt32(IN_ISDIR) != 0
        if isFolder, event.mask & UInt32(IN_MOVED_FROM) != 0 {
            if case .failure(let error) = restartWatching(draining: true) { return .spoolLost(reason: error.description) }
            return .folderMoved(path: path)
        }
        if event.mask & UInt32(IN_MOVED_FROM | IN_DELETE) != 0 { return .gone(path: path) }
        if isFolder {
            guard event.mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 else { return nil }
            // Out of watches (fs.inotify.max_user_watches): what lands in the folder would go
            // unseen, so the spool counts as lost until every watch can be set up again. A
            // folder gone again already (made and moved away at once) needs nothing.
            guard inotifytools_watch_recursively(path, Self.mask) == 1 else {
                let error = inotifytools_error()
                guard error != ENOENT else { return nil }
                let reason =
                    error == ENOSPC ? "the limit of inotify watches (fs.inotify.max_user_watches) is reached" : String(cString: strerror(error))
                return .spoolLost(reason: "cannot watch its new folder \(path): \(reason)")
            }
            return .folderAppeared(path: path)
        }
        if event.mask & UInt32(IN_CREATE) != 0 {
            return arrivesWhole(path) ? .changed(path: path) : nil
        }
        return .changed(path: path)
    }

    /// The file name that follows the fixed part of an event (a C flexible array member), as
    /// bytes: it need not be valid UTF-8.
    private static func name(of event: UnsafeMutablePointer<inotify_event>) -> [UInt8]? {
        guard event.pointee.len > 0 else { return nil }
        let bytes = UnsafeRawBufferPointer(
            start: UnsafeRawPointer(event).advanced(by: MemoryLayout<inotify_event>.size), count: Int(event.pointee.len))
        return Array(bytes.prefix { $0 != 0 })
    }
}

/// Whether a file appears complete the moment it is created: anything but a fresh regular file,
/// and a regular file that already has another name.
private func arrivesWhole(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && ((info.st_mode & S_IFMT) != S_IFREG || info.st_nlink > 1)
}

func isSymbolicLink(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
}
