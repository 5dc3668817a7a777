import Foundation

/// Where a spool stands, read from its folders and the recent sidecars alone (no daemon needed):
/// what `hzsr status` prints. Reading changes nothing.
public struct SpoolStatus: Codable, Sendable {
    /// A file set aside, with the reason its `.reason` file gives.
    public struct SetAside: Codable, Sendable, Equatable {
        public var file: String
        public var reason: String
    }

    /// One published pair.
    public struct Decision: Codable, Sendable, Equatable {
        public var pair: String
        public var decision: String
        public var latencyMs: Double
        public var publishedAt: Date
    }

    public var spool: String
    /// The pid of the daemon using these folders; nil when none is.
    public var daemonPid: Int32?
    /// Frames in the spool waiting for their partner, by camera (`W`, `T`).
    public var waiting: [String: Int]
    /// Pairs claimed into `work/` and not yet published.
    public var inWork: Int
    /// Today's day folder (in `timestamps.time_zone`) and its pairs by decision. Day folders are
    /// named by the day the pair was captured, which is the day it is published unless the
    /// cameras' clocks are off or an earlier capture is processed late.
    public var day: String
    public var publishedToday: [String: Int]
    public var quarantined: [SetAside]
    public var orphaned: [SetAside]
    /// The last 10 published pairs, newest first.
    public var recent: [Decision]

    public static let recentCount = 10

    public init(config: DaemonConfig, now: Date = Date()) {
        let paths = config.paths
        spool = paths.spool
        daemonPid = SpoolLock.holder(work: paths.work)
        let recognizer = FrameRecognizer(config: config)
        var waiting = Dictionary(uniqueKeysWithValues: Role.allCases.map { ($0.rawValue, 0) })
        for file in files(below: paths.spool) where recognizer.isCandidate(name: (file as NSString).lastPathComponent) {
            if let role = recognizer.role(ofRelativePath: file) { waiting[role.rawValue, default: 0] += 1 }
        }
        self.waiting = waiting
        inWork =
            ((try? FileManager.default.contentsOfDirectory(atPath: paths.work)) ?? []).filter {
                $0 != SpoolLock.fileName && !$0.hasPrefix(SpoolStore.claimPrefix)
            }.count
        day = TimeFormat.day(now, in: config.timestamps.timeZone)
        let today = Self.records(in: "\(paths.output)/\(day)")
        publishedToday = Dictionary(grouping: today, by: \.decision.description).mapValues(\.count)
        quarantined = Self.setAside(in: paths.quarantine)
        orphaned = Self.setAside(in: paths.orphans)
        recent = Self.recent(in: paths.output, today: today, day: day).map {
            Decision(pair: $0.pair, decision: $0.decision.description, latencyMs: $0.latencyMs, publishedAt: $0.publishedAt)
        }
    }

    /// As `hzsr status --json` prints it: keys in snake case, times in ISO 8601 as in sidecars.
    public func json() throws -> Data { try JSONCoding.encoder.encode(self) }

    /// The newest sidecars: today's folder's, then the other days' folders, newest first, until
    /// there are enough (a camera clock ahead makes folders of days still to come).
    private static func recent(in output: String, today: [PairRecord], day todayFolder: String) -> [PairRecord] {
        var records = today
        let days = ((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).filter { $0.first?.isNumber ?? false }
        for day in days.sorted(by: >) where day != todayFolder && records.count < recentCount {
            records += self.records(in: "\(output)/\(day)")
        }
        return Array(records.sorted { $0.publishedAt > $1.publishedAt }.prefix(recentCount))
    }

    /// The sidecars of one day folder; one that cannot be read is skipped (a publication in
    /// progress writes its sidecar last, atomically, so this is only ever damage).
    private static func records(in folder: String) -> [PairRecord] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }.compactMap {
            try? Publisher.readRecord(at: "\(folder)/\($0)")
        }
    }

    /// What was set aside in `folder`, oldest first: each file or pair folder with the `.reason`
    /// beside it, and any file without one (the daemon stopped between moving it and writing its
    /// reason), so that nothing set aside goes unlisted. Files inside a pair folder with a reason
    /// belong to it; hidden files are staging, not inputs.
    private static func setAside(in folder: String) -> [SetAside] {
        let all = files(below: folder).filter { !($0 as NSString).lastPathComponent.hasPrefix(".") }
        let explained = Set(all.filter { $0.hasSuffix(".reason") }.map { String($0.dropLast(".reason".count)) })
        func isExplained(_ file: String) -> Bool {
            let parts = file.split(separator: "/")
            return (1...parts.count).contains { explained.contains(parts.prefix($0).joined(separator: "/")) }
        }
        func modified(_ path: String) -> Date {
            (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
        }
        return all.compactMap { file -> (SetAside, Date)? in
            let path = "\(folder)/\(file)"
            if file.hasSuffix(".reason") {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
                return (SetAside(file: String(file.dropLast(".reason".count)), reason: text.trimmingCharacters(in: .newlines)), modified(path))
            }
            return isExplained(file) ? nil : (SetAside(file: file, reason: unrecordedReason), modified(path))
        }.sorted { $0.1 < $1.1 }.map(\.0)
    }

    static let unrecordedReason = "no reason recorded beside it (the daemon stopped between moving it here and writing why)"
}
