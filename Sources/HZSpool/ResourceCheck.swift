import Foundation

/// What a claim needs before it moves anything: room on the disks a pair is written to, and
/// descriptors to open its files with. Without them a claim or a publish fails halfway, so
/// intake leaves the pair in the spool and looks again (`SpoolIntake.retryDelay`).
public enum ResourceCheck {
    /// Descriptors a pair needs at once at most: its two inputs, the manifest, an image, its
    /// temporary file, the folders flushed on the way, with room for the other services.
    static let descriptorsPerClaim = 32

    /// Why a pair cannot be claimed now, or nil when it can: a folder whose file system has
    /// less than `minimumFree` bytes left (work/ and archive/ share the spool's; out/ may be
    /// elsewhere), or too few descriptors left under the process's limit.
    public static func shortage(_ paths: DaemonConfig.Paths, minimumFree: Int) -> String? {
        for (key, path) in [("paths.work", paths.work), ("paths.output", paths.output)] {
            if let free = freeBytes(path), free < minimumFree {
                return "\(key) (\(path)) has \(free >> 20) MB free, below intake.min_free_space_mb (\(minimumFree >> 20))"
            }
        }
        if let (open, limit) = descriptors(), limit - open < descriptorsPerClaim {
            return "\(open) of \(limit) open files in use (RLIMIT_NOFILE), fewer than \(descriptorsPerClaim) left"
        }
        return nil
    }

    /// Bytes an unprivileged user may still write on `path`'s file system.
    static func freeBytes(_ path: String) -> Int? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    /// The process's open descriptors and its soft limit.
    static func descriptors() -> (open: Int, limit: Int)? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max,
            let open = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        else { return nil }
        return (open, Int(limit.rlim_cur))
    }
}
