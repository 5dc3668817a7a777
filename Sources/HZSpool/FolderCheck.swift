import Foundation

/// Why a configured folder cannot be used, with the sysexits status a daemon that cannot start
/// for it exits with.
public struct FolderProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Missing and cannot be made, or something other than a folder is in the way.
        case cannotCreate
        /// The daemon's user lacks read, write or search permission on it or on a folder above it.
        case permissionDenied
        /// Not on the file system of the spool, though inputs move to it by rename.
        case otherFileSystem
    }

    /// The config key: `paths.spool`, …
    public let key: String
    public let path: String
    public let kind: Kind
    public let detail: String

    /// EX_CANTCREAT, EX_NOPERM or EX_CONFIG.
    public var exitStatus: Int32 {
        switch kind {
        case .cannotCreate: 73
        case .permissionDenied: 77
        case .otherFileSystem: 78
        }
    }

    public var description: String { "\(key): \(path): \(detail)" }
}

/// Checks that the daemon's user can use every configured folder: it exists (or, at start, can
/// be created), is a folder, can be read, written and searched, and the folders inputs move
/// between by rename share the spool's file system.
///
/// The output folder may live elsewhere (a disk for viewers, say): images are written there
/// under a temporary name and renamed within it, and nothing moves to it from the spool.
public enum FolderCheck {
    /// `creating`: make missing folders (the daemon at start); else a missing folder passes when
    /// it could be made, and nothing is changed (`--check-config`, and checks while running).
    public static func problems(_ paths: DaemonConfig.Paths, creating: Bool) -> [FolderProblem] {
        let folders = [
            ("paths.spool", paths.spool), ("paths.work", paths.work), ("paths.archive", paths.archive),
            ("paths.quarantine", paths.quarantine), ("paths.orphans", paths.orphans),
            ("paths.output", paths.output),
        ]
        let usability = folders.compactMap { key, path in check(key: key, path: path, creating: creating) }
        guard usability.isEmpty else { return usability }
        let spoolDevice = device(paths.spool)
        return folders.dropFirst().dropLast().compactMap { key, path in
            guard let device = device(path), let spoolDevice, device != spoolDevice else { return nil }
            return FolderProblem(
                key: key, path: path, kind: .otherFileSystem,
                detail: "on another file system than paths.spool (\(paths.spool)); inputs move between them by rename")
        }
    }

    /// The cameras' folders below the spool (`roles.*.folder`), made when missing: writable by
    /// the daemon's group, which the capture account is in, and passing that group on (setgid).
    /// One the capture account made would have its own group and, under the usual umask, no
    /// group write: the daemon could read the frames in it but not move them out. Returns what
    /// could not be made; the daemon runs on (the rig may make them itself).
    public static func makeCameraFolders(_ config: DaemonConfig) -> [String] {
        config.roles.folders.values.sorted().compactMap { name in
            let path = "\(config.paths.spool)/\(name)"
            guard !lstatExists(path) else { return nil }
            do {
                try createFolderDurably(path)
                guard chmod(path, 0o2770) == 0 else { return "\(path): cannot set its mode: \(String(cString: strerror(errno)))" }
                return nil
            } catch {
                return "\(error)"
            }
        }
    }

    /// Whether one folder exists, is a folder and grants the daemon's user read, write and search.
    static func check(key: String, path: String, creating: Bool) -> FolderProblem? {
        func problem(_ kind: FolderProblem.Kind, _ detail: String) -> FolderProblem {
            FolderProblem(key: key, path: path, kind: kind, detail: detail)
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            switch errno {
            case ENOENT: return missing(path, creating: creating, problem)
            case EACCES: return problem(.permissionDenied, deniedAbove(path))
            case ENOTDIR: return problem(.cannotCreate, "\(firstNonFolder(above: path) ?? "a path above it") is not a folder")
            default: return problem(.cannotCreate, String(cString: strerror(errno)))
            }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { return problem(.cannotCreate, "not a folder") }
        guard faccessat(AT_FDCWD, path, R_OK | W_OK | X_OK, AT_EACCESS) == 0 else {
            if errno == EROFS { return problem(.cannotCreate, "on a read-only file system") }
            return problem(.permissionDenied, "permission denied for \(currentUser()) (\(ownership(info)))")
        }
        return nil
    }

    private static func missing(
        _ path: String, creating: Bool,
        _ problem: (FolderProblem.Kind, String) -> FolderProblem
    ) -> FolderProblem? {
        let ancestor = existingAncestor(of: path)
        var info = stat()
        // The ancestor exists as a name (lstat); a link whose target does not (an unmounted
        // disk, a moved folder) is a missing folder, not a permission problem.
        guard stat(ancestor, &info) == 0 else {
            guard errno == ENOENT else { return problem(.cannotCreate, "cannot create it: \(ancestor): \(String(cString: strerror(errno)))") }
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: ancestor)).map { " to \($0)" } ?? ""
            return problem(.cannotCreate, "cannot create it: \(ancestor) is a link\(target), which does not exist (a disk not mounted?)")
        }
        if info.st_mode & S_IFMT != S_IFDIR {
            return problem(.cannotCreate, "cannot create it: \(ancestor) is not a folder")
        }
        guard faccessat(AT_FDCWD, ancestor, W_OK | X_OK, AT_EACCESS) == 0 else {
            if errno == EROFS { return problem(.cannotCreate, "cannot create it: \(ancestor) is on a read-only file system") }
            return problem(.permissionDenied, "cannot create it: permission denied for \(currentUser()) in \(ancestor) (\(ownership(info)))")
        }
        guard creating else { return nil }
        do {
            try createFolderDurably(path)
            return nil
        } catch {
            return problem(.cannotCreate, "cannot create it: \(error)")
        }
    }

    /// The nearest folder above `path` that exists (`/` at worst).
    private static func existingAncestor(of path: String) -> String {
        var candidate = path
        while candidate != "/" {
            candidate = (candidate as NSString).deletingLastPathComponent
            if lstatExists(candidate) { return candidate }
        }
        return "/"
    }

    /// Names the first folder above `path` that the user cannot search.
    private static func deniedAbove(_ path: String) -> String {
        var prefix = ""
        for component in (path as NSString).pathComponents.dropFirst().dropLast() {
            let folder = prefix + "/" + component
            var info = stat()
            if stat(folder, &info) == 0, faccessat(AT_FDCWD, folder, X_OK, AT_EACCESS) != 0 {
                return "permission denied for \(currentUser()): cannot search \(folder) (\(ownership(info)))"
            }
            prefix = folder
        }
        return "permission denied for \(currentUser())"
    }

    private static func firstNonFolder(above path: String) -> String? {
        var prefix = ""
        for component in (path as NSString).pathComponents.dropFirst().dropLast() {
            let candidate = prefix + "/" + component
            var info = stat()
            if stat(candidate, &info) == 0, info.st_mode & S_IFMT != S_IFDIR { return candidate }
            prefix = candidate
        }
        return nil
    }

    private static func device(_ path: String) -> dev_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_dev : nil
    }

    /// `user hzsr`, as the process runs now.
    static func currentUser() -> String { "user \(userName(geteuid()))" }

    /// `owner root, mode 0700`.
    private static func ownership(_ info: stat) -> String {
        "owner \(userName(info.st_uid)), mode \(String(format: "%04o", info.st_mode & 0o7777))"
    }

    private static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "\(uid)" }
        return String(cString: name)
    }
}
