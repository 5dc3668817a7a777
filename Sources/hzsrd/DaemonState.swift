import Foundation
import HZSpool
import HybridZoom
import Synchronization

/// A config with its fusion stage loaded and the pipeline made from both: swapped whole on
/// reload, and shared by reference, so reading it copies nothing.
final class LoadedConfig: Sendable {
    let config: DaemonConfig
    let fusion: FusionStage
    let pipeline: CapturePipeline
    let madeWith: MadeWith

    /// Loads the network unless `previous` has the same model loaded already; `file` is where
    /// the config came from.
    init(_ config: DaemonConfig, file: String, reusing previous: LoadedConfig? = nil) throws {
        self.config = config
        fusion = try FusionStage(config.fusion, reusing: previous?.fusion)
        pipeline = config.pipeline(fusion)
        madeWith = try MadeWith(fusion: fusion, configFile: file)
    }
}

/// What the services share: the current config (swapped on reload), the counters that `STATUS=`
/// shows, and the metrics file's (`metrics.textfile`), which the same events update.
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
        /// Frames waiting for their partner, and when the oldest arrived.
        var waitingFrames = 0
        var oldestWaitingSince: ContinuousClock.Instant?
        /// Whether a pair or a set-aside file changed the metrics since they were last written.
        var metricsChanged = false
        /// Folders that cannot be used right now, one line each (`FolderHealth.problems`).
        var problems: [String] = []
        /// Why intake leaves pairs in the spool for now (`ResourceCheck`), while it does.
        var claimsWaitFor: String?
    }

    let configPath: String
    let metrics: DaemonMetrics?
    private let current: Mutex<LoadedConfig>
    private let counts = Mutex(Counters())

    init(loaded: LoadedConfig, configPath: String) {
        self.configPath = configPath
        self.current = Mutex(loaded)
        metrics = loaded.config.metricsTextfile.map {
            DaemonMetrics(file: $0, version: hzsrVersion, model: loaded.madeWith.model)
        }
    }

    var loaded: LoadedConfig {
        get { current.withLock { $0 } }
        set {
            current.withLock { $0 = newValue }
            metrics?.useModel(newValue.madeWith.model)
        }
    }

    var config: DaemonConfig { loaded.config }

    var counters: Counters { counts.withLock { $0 } }

    func update(_ change: (inout Counters) -> Void) { counts.withLock { change(&$0) } }

    func published(_ record: PairRecord) {
        update {
            $0.published += 1
            $0.lastLatencyMs = record.latencyMs
            $0.metricsChanged = true
        }
        metrics?.published(record)
    }

    func setAside(_ kind: SetAsideKind) {
        update {
            kind == .noPartner ? ($0.orphaned += 1) : ($0.quarantined += 1)
            $0.metricsChanged = true
        }
        metrics?.setAside(kind)
    }

    func failed() {
        update {
            $0.errors += 1
            $0.metricsChanged = true
        }
        metrics?.failed()
    }

    /// Writes the metrics file with the live counts; an error is returned for the caller to log.
    func writeMetrics() -> (any Error)? {
        guard let metrics else { return nil }
        var c = Counters()
        update {
            c = $0
            $0.metricsChanged = false
        }
        var live = DaemonMetrics.Live()
        live.queued = c.queued
        live.inFlight = c.workerBusySince == nil ? 0 : 1
        live.waitingFrames = c.waitingFrames
        live.oldestWaitingAge = c.oldestWaitingSince.map { (ContinuousClock.now - $0) / .seconds(1) } ?? 0
        do { try metrics.write(live) } catch { return error }
        return nil
    }

    /// Whether intake still runs its timer and the worker is not stuck on one pair for longer
    /// than `limit`: what `WATCHDOG=1` vouches for.
    func isHealthy(limit: Duration) -> Bool {
        let c = counters, now = ContinuousClock.now
        return now - c.intakeAlive < limit && c.workerBusySince.map { now - $0 < limit } ?? true
    }

    /// One line for `systemctl status`.
    func statusLine() -> String {
        let c = counters
        var parts = [
            "queue \(c.queued)", "published \(c.published)", "quarantined \(c.quarantined)",
            "orphans \(c.orphaned)", "errors \(c.errors)",
        ]
        if let latency = c.lastLatencyMs { parts.append(String(format: "last %.0f ms", latency)) }
        let waiting = c.claimsWaitFor.map { ["claims wait: \($0)"] } ?? []
        return (c.problems + waiting + [parts.joined(separator: ", ")]).joined(separator: "; ")
    }
}
