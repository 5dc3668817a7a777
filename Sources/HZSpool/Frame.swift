import Foundation
import HZImageIO
import HybridZoom

/// One complete JPEG in the spool, recognised as W or T and placed in time.
public struct Frame: Sendable, Equatable {
    public enum TimestampSource: String, Sendable, Codable {
        case exif, fileName = "file_name", modificationTime = "mtime"
    }

    /// Absolute path of the file in the spool.
    public var path: String
    /// Path relative to the spool (kept when the frame moves to work/ and archive/).
    public var relativePath: String
    public var role: Role
    /// Capture time with the camera's configured clock offset applied.
    public var timestamp: Date
    public var timestampSource: TimestampSource
    /// When the daemon saw the file complete; the orphan timeout counts from here.
    public var arrival: ContinuousClock.Instant
    /// Width and height from the frame header, as intake's walk over the file found them.
    public var pixelSize: Size? = nil
    /// The file's length and modification time when intake read it.
    public var file: FileState? = nil

    public var name: String { (relativePath as NSString).lastPathComponent }
}

/// Recognising spool files: which names to leave alone, which camera a file is from, and when
/// it was taken.
public struct FrameRecognizer: Sendable {
    public let config: DaemonConfig

    public init(config: DaemonConfig) { self.config = config }

    /// Names that writers use while a file is still being written: dot-files (rsync, many
    /// tools), `*.tmp`, `*.part`, `*.crdownload`, `*~` and gphoto2's `tmpfile` + six random characters.
    public static func isTemporary(name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasPrefix(".") || lower.hasPrefix("tmpfile") || lower.hasSuffix("~")
            || [".tmp", ".part", ".crdownload", ".partial"].contains { lower.hasSuffix($0) }
    }

    /// Whether the file's extension is one the spool takes in (others are left where they are).
    public func isCandidate(name: String) -> Bool {
        !Self.isTemporary(name: name)
            && config.intake.extensions.contains((name as NSString).pathExtension.lowercased())
    }

    /// The camera of a file: its first folder below the spool if that is a role folder,
    /// else the configured file-name pattern.
    public func role(ofRelativePath path: String) -> Role? {
        let components = path.split(separator: "/").map(String.init)
        if components.count > 1, let role = config.roles.folders.first(where: { $0.value == components[0] })?.key {
            return role
        }
        let name = components.last ?? path
        return Role.allCases.first { role in
            config.roles.patterns[role]?.matches(name) ?? false
        }
    }

    /// EXIF DateTimeOriginal (+ sub-seconds, + offset), else the file-name pattern, else the
    /// modification time; then the camera's clock offset.
    public func timestamp(exif: EXIF, name: String, modified: Date, role: Role) -> (Date, Frame.TimestampSource) {
        let offset = config.timestamps.clockOffset[role] ?? 0
        if let taken = exif.captureTime(defaultTimeZone: config.timestamps.timeZone) {
            return (taken + offset, .exif)
        }
        if let named = timestamp(fromName: name) { return (named + offset, .fileName) }
        return (modified + offset, .modificationTime)
    }

    /// Reads the named groups `year month day hour minute second` and optional `fraction`
    /// (decimal digits of a second) of the configured file-name pattern.
    func timestamp(fromName name: String) -> Date? {
        guard let groups = config.timestamps.fileNamePattern?.groups(in: name) else { return nil }
        func group(_ key: String) -> String? { groups[key] }
        var parts = DateComponents()
        parts.timeZone = config.timestamps.timeZone
        guard let year = group("year").flatMap(Int.init), let month = group("month").flatMap(Int.init),
            let day = group("day").flatMap(Int.init)
        else { return nil }
        (parts.year, parts.month, parts.day) = (year, month, day)
        parts.hour = group("hour").flatMap(Int.init) ?? 0
        parts.minute = group("minute").flatMap(Int.init) ?? 0
        parts.second = group("second").flatMap(Int.init) ?? 0
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = config.timestamps.timeZone
        guard let whole = calendar.date(from: parts) else { return nil }
        let fraction = group("fraction").flatMap { Double("0." + $0) } ?? 0
        return whole + fraction
    }
}
