import Foundation
import HZSpool

/// What intake knows about its folders while running: whether the spool is watched, and which
/// folders have become unusable (removed, permissions changed, file system read-only). Checks
/// run at a bounded rate, so a broken folder costs a few system calls a second, never a loop.
struct FolderHealth {
    let paths: DaemonConfig.Paths
    /// How often every folder is checked, and how often a lost spool is looked for.
    static let checkInterval = Duration.seconds(5)
    static let rewatchInterval = Duration.seconds(1)

    private var lostSpool: (reason: String, lastTry: ContinuousClock.Instant)?
    private var unusable: [FolderProblem] = []
    private var nextCheck: ContinuousClock.Instant

    init(paths: DaemonConfig.Paths, start: ContinuousClock.Instant) {
        self.paths = paths
        nextCheck = start + Self.checkInterval
    }

    /// One line per problem, for `STATUS=`.
    var problems: [String] {
        (lostSpool.map { ["paths.spool: \(paths.spool): \($0.reason), waiting for it"] } ?? []) + unusable.map(\.description)
    }

    /// Notes that the spool cannot be watched; true when it was watched until now.
    mutating func spoolLost(_ reason: String, now: ContinuousClock.Instant) -> Bool {
        defer { lostSpool = (reason, now) }
        return lostSpool == nil
    }

    mutating func spoolWatched() { lostSpool = nil }

    /// Whether to ask for the spool's watches again: it is lost, a second has passed since the
    /// last try, and the folder is there and usable.
    mutating func shouldRewatch(now: ContinuousClock.Instant) -> Bool {
        guard let lost = lostSpool, now - lost.lastTry >= Self.rewatchInterval else { return false }
        lostSpool?.lastTry = now
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: paths.spool, isDirectory: &isFolder) && isFolder.boolValue
            && FolderCheck.problems(paths, creating: false).allSatisfy { $0.key != "paths.spool" }
    }

    /// Every `checkInterval`: the problems that appeared and those that cleared since the last
    /// check, or nil when nothing changed.
    mutating func recheck(now: ContinuousClock.Instant) -> (appeared: [FolderProblem], cleared: [FolderProblem])? {
        guard now >= nextCheck else { return nil }
        nextCheck = now + Self.checkInterval
        let current = FolderCheck.problems(paths, creating: false)
        let appeared = current.filter { !unusable.contains($0) }, cleared = unusable.filter { !current.contains($0) }
        unusable = current
        return appeared.isEmpty && cleared.isEmpty ? nil : (appeared, cleared)
    }
}
