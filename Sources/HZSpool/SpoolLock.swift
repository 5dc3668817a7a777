import Foundation

/// A daemon's hold on its folders: an `flock` on `work/.hzsrd.lock`, which holds the daemon's
/// pid. Two daemons on one spool would claim the same pairs; the second refuses to start
/// instead. The kernel lets go of the lock when the process ends, however it ends, so a killed
/// daemon leaves nothing to clean up.
public final class SpoolLock: Sendable {
    public static let fileName = ".hzsrd.lock"
    private let descriptor: Int32

    /// Takes the lock on `work` (which must exist), or says who holds it.
    public init(work: String) throws(SpoolLockError) {
        let path = "\(work)/\(Self.fileName)"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SpoolLockError(path: path, problem: String(cString: strerror(errno))) }
        guard Self.lockExclusively(descriptor) else {
            let problem =
                errno == EWOULDBLOCK
                ? "another hzsrd\(Self.pid(in: descriptor).map { " (pid \($0))" } ?? "") is using these folders"
                : String(cString: strerror(errno))
            close(descriptor)
            throw SpoolLockError(path: path, problem: problem)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
    }

    deinit { close(descriptor) }

    /// The exclusive lock, tried for up to half a second: `holder` (`hzsr status`) holds a
    /// shared lock for an instant to look, and a daemon starting in that instant must not take
    /// it for another daemon.
    private static func lockExclusively(_ descriptor: Int32) -> Bool {
        for attempt in 0..<50 {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
            guard errno == EWOULDBLOCK, attempt < 49 else { return false }
            usleep(10_000)
        }
        return false
    }

    /// The pid of the daemon that holds `work`'s lock; nil when none does (or the lock file
    /// cannot be read), 0 when one does but its pid is unknown.
    public static func holder(work: String) -> Int32? {
        let descriptor = open("\(work)/\(fileName)", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_SH | LOCK_NB) != 0 else { return nil }  // taken: nobody held it
        return errno == EWOULDBLOCK ? pid(in: descriptor) ?? 0 : nil
    }

    private static func pid(in descriptor: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 16)
        let count = pread(descriptor, &bytes, bytes.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: bytes[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

public struct SpoolLockError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String

    public var description: String { "\(path): \(problem)" }
}
