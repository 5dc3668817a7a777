import Foundation
import HybridZoom

/// What a claimed pair's folder in `work/` says about itself; written before any input moves, so
/// that a crash at any point leaves enough on disk to finish the move or undo nothing.
public struct ClaimManifest: Codable, Sendable, Equatable {
    public var id: String
    /// The capture day (`YYYY-MM-DD`) that names the archive and output folders.
    public var day: String
    /// Each kept below the pair's folder as `<role>/<file name>`.
    public var inputs: [InputRecord]
    /// How many times processing began and the daemon died before it ended: counted up before
    /// each try, set back when a try ends in an error the daemon survived.
    public var attempts = 0
    /// How many tries ended in an error the daemon survived (a full disk, an I/O error): the
    /// wait before the next try doubles with each, across restarts too.
    public var failures = 0

    public func input(_ role: Role) -> InputRecord? { inputs.first { $0.role == role } }

    /// The inputs as a sidecar records them: each at its place below `folder`, where the pair's
    /// folder is archived (nil when inputs are not kept).
    public func inputs(archivedIn folder: String?) -> [InputRecord] {
        inputs.map { input in
            var archived = input
            archived.archivedAt = folder.map { "\($0)/\(input.pathInPairFolder)" }
            return archived
        }
    }

    /// The manifest in a pair's folder (in `work/` or `archive/`).
    public static func read(inPairFolder folder: String) throws -> ClaimManifest {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(SpoolStore.manifestName)"))
        return try JSONCoding.decoder.decode(ClaimManifest.self, from: data)
    }
}

extension ClaimManifest {
    private enum CodingKeys: String, CodingKey { case id, day, inputs, attempts, failures }

    /// Manifests written before attempts and failures were counted have none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        day = try container.decode(String.self, forKey: .day)
        inputs = try container.decode([InputRecord].self, forKey: .inputs)
        attempts = try container.decodeIfPresent(Int.self, forKey: .attempts) ?? 0
        failures = try container.decodeIfPresent(Int.self, forKey: .failures) ?? 0
    }
}

/// A file's length and modification time (nanoseconds since 1970: a `Date` would round them).
/// A camera that keeps writing into a file it seemed to have finished (the rename into `work/`
/// keeps its open descriptor pointing at the same file) changes one or both.
public struct FileState: Codable, Sendable, Hashable, CustomStringConvertible {
    public var bytes: Int
    public var modifiedNanoseconds: Int64

    public init(bytes: Int, modifiedNanoseconds: Int64) {
        (self.bytes, self.modifiedNanoseconds) = (bytes, modifiedNanoseconds)
    }

    public init?(path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    init(_ info: stat) {
        self.init(bytes: Int(info.st_size), modifiedNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    public var description: String {
        let modified = Date(timeIntervalSince1970: Double(modifiedNanoseconds) / 1e9)
        return "\(bytes) bytes, modified \(modified.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))"
    }
}

/// One input of a pair, as the claim's manifest and the sidecar record it.
public struct InputRecord: Codable, Sendable, Equatable {
    public var role: Role
    /// Its path relative to the spool.
    public var name: String
    public var timestamp: Date
    public var timestampSource: Frame.TimestampSource
    /// Where it went after processing: in the sidecar, when inputs are kept.
    public var archivedAt: String?
    /// Its frame's width and height, as intake read them (none in manifests written before).
    public var size: Size?
    /// Its file's length and modification time when intake read it (none in manifests written
    /// before): a file that differs later was written to after it was taken in.
    public var file: FileState?

    /// Its place in a pair's folder, in `work/` and in `archive/`: `<role>/<file name>`.
    public var pathInPairFolder: String { "\(role.rawValue)/\((name as NSString).lastPathComponent)" }

    public init(_ frame: Frame) {
        (role, name, timestamp, timestampSource) = (frame.role, frame.relativePath, frame.timestamp, frame.timestampSource)
        (size, file) = (frame.pixelSize, frame.file)
    }

    private enum CodingKeys: String, CodingKey {
        case role, name, timestamp, timestampSource, archivedAt, size, file
        /// What manifests written before the sidecar and the manifest shared this type called `name`.
        case spoolPath
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        role = try container.decode(Role.self, forKey: .role)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? container.decode(String.self, forKey: .spoolPath)
        timestamp = try container.decode(Date.self, forKey: .timestamp)
        timestampSource = try container.decode(Frame.TimestampSource.self, forKey: .timestampSource)
        archivedAt = try container.decodeIfPresent(String.self, forKey: .archivedAt)
        size = try container.decodeIfPresent([Int].self, forKey: .size).flatMap { $0.count == 2 ? Size(width: $0[0], height: $0[1]) : nil }
        file = try container.decodeIfPresent(FileState.self, forKey: .file)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(role, forKey: .role)
        try container.encode(name, forKey: .name)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encode(timestampSource, forKey: .timestampSource)
        try container.encodeIfPresent(archivedAt, forKey: .archivedAt)
        try container.encodeIfPresent(size.map { [$0.width, $0.height] }, forKey: .size)
        try container.encodeIfPresent(file, forKey: .file)
    }
}

/// A pair whose inputs sit in `work/<id>/`.
public struct ClaimedPair: Sendable, Equatable {
    public var manifest: ClaimManifest
    public var folder: String

    public func path(of input: InputRecord) -> String { "\(folder)/\(input.pathInPairFolder)" }
}

public struct SpoolError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The file system is the daemon's state: inputs move by atomic renames through
/// `spool/ → work/<pair>/ → archive/<day>/<pair>/`, or to `quarantine/` or `orphans/` with a
/// `.reason` file beside them. Nothing is deleted unless `archive.keep_inputs` is false.
public struct SpoolStore: Sendable {
    public let paths: DaemonConfig.Paths
    static let manifestName = "manifest.json"
    static let claimPrefix = ".claim-"

    public init(paths: DaemonConfig.Paths) { self.paths = paths }

    /// Moves a pair's inputs into `work/<id>/`: the folder and its manifest appear in one rename,
    /// then each input moves in. `resumeClaims` completes whatever a crash interrupted; an input
    /// that cannot move (a folder of the spool on another file system, or one the daemon may not
    /// write) has the claim undone, so that trying again leaves nothing behind.
    public func claim(_ pair: FramePair, id: String, day: String) throws -> ClaimedPair {
        let manifest = ClaimManifest(
            id: uniqueID(id, day: day), day: day,
            inputs: [pair.wide, pair.tele].map {
                InputRecord($0)
            })
        let staging = "\(paths.work)/\(Self.claimPrefix)\(manifest.id)"
        try? FileManager.default.removeItem(atPath: staging)
        do {
            for role in Role.allCases {
                try createFolderDurably("\(staging)/\(role.rawValue)")
            }
            try writeDurably(try JSONCoding.encoder.encode(manifest), to: "\(staging)/\(Self.manifestName)")
        } catch {
            try? FileManager.default.removeItem(atPath: staging)  // a full disk: nothing had moved
            throw error
        }
        let claimed = ClaimedPair(manifest: manifest, folder: "\(paths.work)/\(manifest.id)")
        try rename(staging, to: claimed.folder)
        do {
            try moveInputsIn(claimed)
        } catch {
            do {
                try withdraw(claimed)
            } catch let undoing {  // `resumeClaims` finishes the claim at the next start
                throw SpoolError("\(error); undoing the claim: \(undoing)")
            }
            throw error
        }
        return claimed
    }

    /// Moves a claim's inputs back to the spool and removes its folder.
    private func withdraw(_ claimed: ClaimedPair) throws {
        for input in claimed.manifest.inputs where lstatExists(claimed.path(of: input)) {
            try rename(claimed.path(of: input), to: "\(paths.spool)/\(input.name)")
        }
        try FileManager.default.removeItem(atPath: claimed.folder)
        try syncFolder(paths.work)
    }

    /// The pairs found in `work/` after a restart, with any input still in the spool moved in.
    /// A pair whose input has vanished from both places is quarantined and reported.
    public func resumeClaims() -> (claims: [ClaimedPair], problems: [(folder: String, reason: String)]) {
        var claims: [ClaimedPair] = [], problems: [(String, String)] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: paths.work))?.sorted() ?? [] {
            let folder = "\(paths.work)/\(name)"
            if name == SpoolLock.fileName { continue }
            if name.hasPrefix(Self.claimPrefix) {  // never renamed into place: no input had moved
                try? FileManager.default.removeItem(atPath: folder)
                continue
            }
            do {
                let claimed = ClaimedPair(manifest: try ClaimManifest.read(inPairFolder: folder), folder: folder)
                try moveInputsIn(claimed)
                claims.append(claimed)
            } catch {
                let reason = "cannot resume \(name): \(error)"
                problems.append((folder, reason))
                _ = try? setAside(folder, as: name, in: paths.quarantine, reason: reason)
            }
        }
        return (claims, problems)
    }

    /// Changes the pair's manifest durably: the counts of tries begun (what a crash during the
    /// next one leaves behind) and of tries that failed.
    public func updateManifest(of claimed: ClaimedPair, _ change: (inout ClaimManifest) -> Void) throws -> ClaimedPair {
        var updated = claimed
        change(&updated.manifest)
        try writeAtomically(try JSONCoding.encoder.encode(updated.manifest), to: "\(claimed.folder)/\(Self.manifestName)")
        return updated
    }

    public func archiveFolder(id: String, day: String) -> String { "\(paths.archive)/\(day)/\(id)" }

    /// Moves a finished pair's folder to `archive/<day>/<id>/`, or deletes it when inputs are
    /// not to be kept.
    public func archive(_ claimed: ClaimedPair, keepInputs: Bool) throws {
        guard keepInputs else { return try FileManager.default.removeItem(atPath: claimed.folder) }
        let destination = archiveFolder(id: claimed.manifest.id, day: claimed.manifest.day)
        try createFolderDurably((destination as NSString).deletingLastPathComponent)
        try rename(claimed.folder, to: destination)
    }

    /// Sets a spool file or a claimed pair aside in `quarantine/` (bad input) or `orphans/`
    /// (no partner), keeping its path below the spool, with a `.reason` file beside it.
    /// Returns the new path.
    @discardableResult
    public func setAside(_ path: String, as relativePath: String, in folder: String, reason: String) throws -> String {
        // Room for `-2`, `.reason` and `.….tmp` under NAME_MAX.
        let name = bounded((relativePath as NSString).lastPathComponent, bytes: 230)
        let below = (relativePath as NSString).deletingLastPathComponent
        let destination = uniquePath(below.isEmpty ? "\(folder)/\(name)" : "\(folder)/\(below)/\(name)")
        try createFolderDurably((destination as NSString).deletingLastPathComponent)
        try rename(path, to: destination)
        // Set aside now whatever follows: a `.reason` the disk has no room for is only missing
        // beside it (the journal has the reason), where a throw would have it moved again.
        try? writeAtomically(Data((reason + "\n").utf8), to: destination + ".reason")
        return destination
    }

    private func moveInputsIn(_ claimed: ClaimedPair) throws {
        for input in claimed.manifest.inputs {
            let target = claimed.path(of: input)
            if FileManager.default.fileExists(atPath: target) { continue }
            let source = "\(paths.spool)/\(input.name)"
            guard lstatExists(source) else {
                throw SpoolError("input \(input.name) is neither in the spool nor in \(claimed.folder)")
            }
            try rename(source, to: target)
        }
    }

    /// `id`, or `id-2`, `id-3`, … when a pair of that id is in work, in the day's archive or
    /// published that day (the same frame names captured again), so that each pair's archive
    /// folder and output are its own (without archived inputs, the output alone says so).
    private func uniqueID(_ id: String, day: String) -> String {
        let published = Publisher(root: paths.output, latestLink: false)
        var candidate = id, counter = 2
        while lstatExists("\(paths.work)/\(candidate)") || lstatExists(archiveFolder(id: candidate, day: day))
            || published.isPublished(id: candidate, day: day)
        {
            candidate = "\(id)-\(counter)"
            counter += 1
        }
        return candidate
    }
}

enum JSONCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(TimeFormat.iso8601(date))
        }
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = TimeFormat.parseISO8601(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad date \(text)"))
            }
            return date
        }
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()
}

/// Why a file or a pair was set aside, in a few words: what metrics count by. The full reason,
/// with the file's details, is in its `.reason` file and the journal.
public enum SetAsideKind: String, Sendable, CaseIterable {
    case link = "symbolic link"
    case notAFile = "not a regular file"
    case hardLink = "hard link"
    /// Intake's verdict on the file: not a complete JPEG, too many pixels, no role.
    case unusableFrame = "unusable frame"
    /// The decoder's verdict on a claimed frame: a broken or corrupt JPEG, bad EXIF.
    case brokenFrame = "broken frame"
    case overMemoryBudget = "over memory budget"
    /// The daemon died `intake.max_crashes_per_pair` times with the pair in hand.
    case poisonPair = "poison pair"
    /// An input written to after intake took it in.
    case changedAfterIntake = "changed after intake"
    /// A claim folder whose manifest is missing, unreadable or incomplete.
    case brokenClaim = "broken claim"
    /// A frame whose partner did not come within `pairing.orphan_timeout` (set aside in `orphans/`).
    case noPartner = "no partner"
}
