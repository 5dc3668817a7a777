import Foundation
import HZSpool
import Synchronization

/// What the services share: the current config (swapped on reload) and the counters that
/// `STATUS=` shows.
final class DaemonState: Sendable {
    struct Counters: Sendable {
        var queued = 0
        var published = 0
        var quarantined = 0
        var orphaned = 0
        var errors = 0
        var lastLatencyMs: Double?
        /// Heartbeats for the watchdog: intake's last timer tick, and the start of the pair the
        /// worker is on (nil when idle).
        var intakeAlive = ContinuousClock.now
        var workerBusySince: ContinuousClock.Instant?
        /// Folders that cannot be used right now, one line each (`FolderHealth.problems`).
        var problems: [String] = []
    }

    let configPath: String
    private let currentConfig: Mutex<DaemonConfig>
    private let counts = Mutex(Counters())

    init(config: DaemonConfig, configPath: String) {
        self.configPath = configPath
        self.currentConfig = Mutex(config)
    }

    var config: DaemonConfig {
        get { currentConfig.withLock { $0 } }
        set { currentConfig.withLock { $0 = newValue } }
    }

    var counters: Counters { counts.withLock { $0 } }

    func update(_ change: (inout Counters) -> Void) { counts.withLock { change(&$0) } }

    /// Whether intake still runs its timer and the worker is not stuck on one pair for longer
    /// than `limit`: what `WATCHDOG=1` vouches for.
    func isHealthy(limit: Duration) -> Bool {
        let c = counters, now = ContinuousClock.now
        return now - c.intakeAlive < limit && c.workerBusySince.map { now - $0 < limit } ?? true
    }

    /// One line for `systemctl status`.
    func statusLine() -> String {
        let c = counters
        var parts = ["queue \(c.queued)", "published \(c.published)", "quarantined \(c.quarantined)",
                     "orphans \(c.orphaned)", "errors \(c.errors)"]
        if let latency = c.lastLatencyMs { parts.append(String(format: "last %.0f ms", latency)) }
        return (c.problems + [parts.joined(separator: ", ")]).joined(separator: "; ")
    }
}
