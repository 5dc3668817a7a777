import Foundation
import HZImageIO

/// The W/T pairs in a folder tree as a rig or the daemon left them: a spool (`W/…` and `T/…`, or
/// names that match the camera patterns), an archive (`<day>/<pair>/{W,T}/<file>`) or any folder
/// of pairs. A file's camera is the nearest folder above it named for a camera, else its name's
/// pattern. Within one folder, frames pair by name first (`W/NAME` with `T/NAME`, `NAME_W` with
/// `NAME_T`), then by timestamp as the daemon pairs them.
public struct PairFinder: Sendable {
    public struct Pair: Sendable, Equatable {
        public var wide: String
        public var tele: String
    }

    public let config: DaemonConfig

    public init(config: DaemonConfig) { self.config = config }

    /// The pairs under `folder`, in path order, and the frames that found no partner.
    public func pairs(in folder: String) -> (pairs: [Pair], unpaired: [String]) {
        let recognizer = FrameRecognizer(config: config)
        var groups: [String: [Frame]] = [:]
        for relative in files(below: folder) {
            let name = (relative as NSString).lastPathComponent
            guard recognizer.isCandidate(name: name), let (role, group) = camera(of: relative) else { continue }
            let path = "\(folder)/\(relative)"
            groups[group, default: []].append(frame(path, name: name, group: group, role: role, recognizer))
        }
        var pairs: [Pair] = [], unpaired: [String] = []
        for (_, frames) in groups.sorted(by: { $0.key < $1.key }) {
            let (named, rest) = pairedByName(frames)
            var pairer = Pairer()
            var timed: [FramePair] = []
            for frame in rest.sorted(by: { $0.path < $1.path }) { timed += pairer.add(frame, tolerance: config.pairing.tolerance) }
            pairs += (named + timed).map { Pair(wide: $0.wide.path, tele: $0.tele.path) }
            unpaired += pairer.waiting.map(\.path)
        }
        return (pairs.sorted { $0.wide < $1.wide }, unpaired.sorted())
    }

    /// The camera, and the folder whose frames pair with each other: the one holding the camera
    /// folders, or the file's own folder when its name tells the camera.
    private func camera(of relative: String) -> (Role, String)? {
        var folders = (relative as NSString).pathComponents.dropLast()
        while let folder = folders.last {
            folders.removeLast()
            if let role = config.roles.folders.first(where: { $0.value == folder })?.key { return (role, folders.joined(separator: "/")) }
        }
        let name = (relative as NSString).lastPathComponent
        guard let role = Role.allCases.first(where: { config.roles.patterns[$0]?.matches(name) ?? false }) else { return nil }
        return (role, (relative as NSString).deletingLastPathComponent)
    }

    private func frame(_ path: String, name: String, group: String, role: Role, _ recognizer: FrameRecognizer) -> Frame {
        let bytes = FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
        let exif = JPEGStructure(scanning: bytes).exifPayloadRange.flatMap { try? EXIF(app1Payload: Array(bytes[$0])) } ?? EXIF()
        let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? Date(timeIntervalSince1970: 0)
        let (timestamp, source) = recognizer.timestamp(exif: exif, name: name, modified: modified, role: role)
        return Frame(
            path: path, relativePath: group.isEmpty ? name : "\(group)/\(name)", role: role, timestamp: timestamp, timestampSource: source,
            arrival: .now)
    }

    /// Frames whose names match once the camera's part is taken out: `NAME` in both camera
    /// folders, or `NAME_W` and `NAME_T`.
    private func pairedByName(_ frames: [Frame]) -> (pairs: [FramePair], rest: [Frame]) {
        func key(_ frame: Frame) -> String {
            let stem = (frame.name as NSString).deletingPathExtension
            for suffix in ["_W", "_T", "-W", "-T"] where stem.uppercased().hasSuffix(suffix) { return String(stem.dropLast(2)) }
            return stem
        }
        let wides = Dictionary(grouping: frames.filter { $0.role == .wide }, by: key)
        let teles = Dictionary(grouping: frames.filter { $0.role == .tele }, by: key)
        var pairs: [FramePair] = [], paired: Set<String> = []
        for (name, wide) in wides where wide.count == 1 {
            guard let tele = teles[name], tele.count == 1 else { continue }
            pairs.append(FramePair(wide: wide[0], tele: tele[0]))
            paired.formUnion([wide[0].path, tele[0].path])
        }
        return (pairs, frames.filter { !paired.contains($0.path) })
    }
}
