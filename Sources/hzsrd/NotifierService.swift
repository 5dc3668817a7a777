import HZSystemd
import Logging
import ServiceLifecycle

/// Keeps systemd informed: `STATUS=` with the queue and counts, `WATCHDOG=1` at half the
/// watchdog interval, and `STOPPING=1` when the daemon shuts down. (`READY=1` comes from intake,
/// after its start-up scan.) The watchdog ping is withheld while intake has stopped ticking or
/// the worker has been on one pair for a whole watchdog period, so systemd restarts a daemon
/// that hangs rather than one that merely runs.
struct NotifierService: Service {
    let state: DaemonState
    let notifier: ManagerNotifications
    let logger: Logger

    func run() async throws {
        let watchdog = notifier.watchdogInterval
        let interval = min(watchdog ?? .seconds(2), .seconds(2))
        var lastStatus = ""
        while !Task.isShuttingDownGracefully {
            let status = state.statusLine()
            var assignments: [String] = []
            if let watchdog {
                if state.isHealthy(limit: watchdog * 2) {
                    assignments.append("WATCHDOG=1")
                } else {
                    logger.record(.error, "withholding the watchdog ping: intake or worker is stuck", level: .critical)
                }
            }
            if status != lastStatus { assignments.append("STATUS=\(status)") }
            if !assignments.isEmpty { notifier.post { [assignments] in try $0.send(assignments) } }
            lastStatus = status
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        logger.record(.stopping, "hzsrd stopping: \(state.statusLine())")
        notifier.postAndWait(timeout: 1) { try $0.stopping() }
    }
}
