import HZSystemd
import Logging
import ServiceLifecycle

/// Keeps systemd informed: `STATUS=` with the queue and counts, `WATCHDOG=1` at half the
/// watchdog interval, and `STOPPING=1` when the daemon shuts down. (`READY=1` comes from intake,
/// after its start-up scan.) The watchdog ping is withheld while intake has stopped ticking or
/// the worker has been on one pair for a whole watchdog period, so systemd restarts a daemon
/// that hangs rather than one that merely runs, and while the daemon burns CPU with nothing to
/// do (`IdleCPUGuard`).
struct NotifierService: Service {
    let state: DaemonState
    let notifier: ManagerNotifications
    let logger: Logger

    func run() async throws {
        let watchdog = notifier.watchdogInterval
        let interval = min(watchdog ?? .seconds(2), .seconds(2))
        var lastStatus = "", idleGuard = IdleCPUGuard()
        // Cancelled when another service fails: then too the loop must end, not spin.
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let status = state.statusLine()
            var assignments: [String] = []
            let counters = state.counters
            let wasSpinning = idleGuard.excess != nil
            idleGuard.update(idle: counters.queued == 0 && counters.workerBusySince == nil, now: .now)
            if let share = idleGuard.excess, !wasSpinning {
                logger.record(.error, "\(Int(share * 100)) % CPU with nothing to do: a loop that does not wait", level: .critical)
            }
            if let watchdog {
                if state.isHealthy(limit: watchdog * 2), idleGuard.excess == nil {
                    assignments.append("WATCHDOG=1")
                } else {
                    logger.record(.error, "withholding the watchdog ping: intake or worker is stuck, or spinning", level: .critical)
                }
            }
            if status != lastStatus { assignments.append("STATUS=\(status)") }
            if !assignments.isEmpty { notifier.post { [assignments] in try $0.send(assignments) } }
            lastStatus = status
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { break }
        }
        logger.record(.stopping, "hzsrd stopping: \(state.statusLine())")
        await notifier.postAndWait(timeout: .seconds(1)) { try $0.stopping() }
    }
}
