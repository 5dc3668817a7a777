import HZSystemd
import Logging
import ServiceLifecycle

/// Keeps systemd informed: `STATUS=` with the queue and counts, `WATCHDOG=1` at half the
/// watchdog interval, and `STOPPING=1` when the daemon shuts down. (`READY=1` comes from intake,
/// after its start-up scan.)
struct NotifierService: Service {
    let state: DaemonState
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        let interval = min(notifier.watchdogInterval ?? .seconds(2), .seconds(2))
        var lastStatus = ""
        while !Task.isShuttingDownGracefully {
            let status = state.statusLine()
            var assignments = notifier.watchdogInterval == nil ? [] : ["WATCHDOG=1"]
            if status != lastStatus { assignments.append("STATUS=\(status)") }
            if !assignments.isEmpty { try? notifier.send(assignments) }
            lastStatus = status
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        logger.record(.stopping, "hzsrd stopping: \(state.statusLine())")
        try? notifier.stopping()
    }
}
