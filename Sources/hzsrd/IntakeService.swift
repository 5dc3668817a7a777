import AsyncAlgorithms
import Foundation
import HZSpool
import HZSystemd
import Logging
import ServiceLifecycle

/// A pair ready for the worker, with the moment it became complete (for latency).
struct WorkItem: Sendable {
    var claimed: ClaimedPair
    var completedAt: ContinuousClock.Instant
}

/// Watches the spool and turns files into claimed pairs for the worker. At start it resumes the
/// pairs a previous run left in `work/`, scans the spool, then tells systemd it is ready.
struct IntakeService: Service {
    let state: DaemonState
    let queue: AsyncStream<WorkItem>.Continuation
    let logger: Logger
    let notifier: ManagerNotifications

    private enum Input: Sendable {
        case spool(SpoolEvent)
        case tick
    }

    func run() async throws {
        var loaded = state.loaded
        var intake = SpoolIntake(config: loaded.config)
        let store = SpoolStore(paths: intake.config.paths)
        let spool = intake.config.paths.spool
        let watcher = SpoolWatcher(root: spool)
        let events = try await watcher.events()
        defer { watcher.stop() }

        resume(store)
        let clock = ContinuousClock()
        let alive = { state.update { $0.intakeAlive = clock.now } }
        // Before READY=1 systemd gives the start TimeoutStartSec= (90 s), not the watchdog: a
        // spool that filled while the daemon was down asks for more time as it is taken in.
        var asked = clock.now
        handle(
            intake.scan(now: clock.now) {
                guard clock.now - asked >= .seconds(10) else { return }
                asked = clock.now
                notifier.post { try $0.send(["EXTEND_TIMEOUT_USEC=30000000"]) }
            })
        logger.record(
            .started, "hzsrd watching \(spool)",
            [
                .spool: .string(spool), .output: .string(intake.config.paths.output),
                .config: .string(state.configPath), .waiting: .stringConvertible(intake.waitingCount),
            ])
        notifier.post { try $0.ready() }

        var health = FolderHealth(paths: intake.config.paths, start: clock.now)
        let ticks = AsyncTimerSequence(interval: .milliseconds(200), clock: clock).map { _ in Input.tick }
        for await input in merge(events.map(Input.spool), ticks).cancelOnGracefulShutdown() {
            if state.loaded !== loaded {  // reloaded
                loaded = state.loaded
                intake.config = loaded.config
            }
            switch input {
            case .spool(.changed(let path)): handle(intake.inspect(path, now: clock.now))
            case .spool(.gone(let path)): intake.forget(path)
            case .spool(.invalidName(let folder)): handle(intake.renameInvalidNames(in: folder))
            case .spool(.folderAppeared(let folder)):
                handle(intake.inspect(folder, now: clock.now))
                handle(intake.scan(below: folder, now: clock.now, progress: alive))
            case .spool(.folderMoved(let folder)):
                intake.forget(folder)
                logger.record(.rescan, "\(folder) moved; watching \(spool) anew and rescanning", [.file: .string(folder)])
                handle(intake.scan(now: clock.now, progress: alive))
            case .spool(.overflow):
                logger.record(.rescan, "inotify queue overflowed; watching \(spool) anew and rescanning", level: .warning)
                handle(intake.scan(now: clock.now, progress: alive))
            case .spool(.spoolLost(let reason)):
                if health.spoolLost(reason, now: clock.now) {
                    logger.record(
                        .error, "the spool \(spool): \(reason); watching it again as soon as it can be", level: .error,
                        [.file: .string(spool), .reason: .string(reason)])
                }
                state.update { $0.problems = health.problems }
            case .spool(.rewatched):
                health.spoolWatched()
                state.update { $0.problems = health.problems }
                logger.record(.rescan, "the spool \(spool) is back: watching it again and rescanning", [.file: .string(spool)])
                handle(intake.scan(now: clock.now, progress: alive))
            case .tick:
                state.update {
                    $0.intakeAlive = clock.now
                    $0.waitingFrames = intake.waitingCount
                    $0.oldestWaitingSince = intake.pairer.waiting.map(\.arrival).min()
                }
                handle(intake.tick(now: clock.now))
                checkFolders(&health, watcher, now: clock.now)
            }
        }
    }

    /// At a bounded rate: asks for the spool's watches again once it is back, and reports each
    /// folder that became unusable or usable again.
    private func checkFolders(_ health: inout FolderHealth, _ watcher: SpoolWatcher, now: ContinuousClock.Instant) {
        if health.shouldRewatch(now: now) { watcher.rewatch() }
        guard let change = health.recheck(now: now) else { return }
        for problem in change.appeared {
            logger.record(.error, "\(problem)", level: .error, [.file: .string(problem.path), .reason: .string(problem.detail)])
        }
        for problem in change.cleared {
            logger.record(.rescan, "\(problem.key): \(problem.path) is usable again", [.file: .string(problem.path)])
        }
        state.update { $0.problems = health.problems }
    }

    /// Pairs claimed before a restart: published ones only need archiving, the rest go to work.
    private func resume(_ store: SpoolStore) {
        let (claims, problems) = store.resumeClaims()
        for problem in problems {
            state.setAside(.brokenClaim)
            logger.record(.inputQuarantined, "\(problem.reason)", level: .error, [.file: .string(problem.folder)])
        }
        for claimed in claims {
            logger.record(
                .rescan, "resuming pair \(claimed.manifest.id) from \(claimed.folder)",
                [.pair: .string(claimed.manifest.id)])
            enqueue(WorkItem(claimed: claimed, completedAt: ContinuousClock().now))
        }
    }

    private func handle(_ outcomes: [IntakeOutcome]) {
        for outcome in outcomes {
            switch outcome {
            case .waiting(let frame):
                logger.debug("\(frame.relativePath) waits for its partner", metadata: [JournalField.file.rawValue: .string(frame.relativePath)])
            case .claimed(let claimed, let completedAt):
                claimsWait(for: nil)
                enqueue(WorkItem(claimed: claimed, completedAt: completedAt))
            case .claimWaits(let reason):
                claimsWait(for: reason)
            case .quarantined(let file, let reason, let kind, let movedTo):
                state.setAside(kind)
                logger.record(
                    .inputQuarantined, "\(file) quarantined: \(reason)", level: .warning,
                    [
                        .file: .string(file), .reason: .string(reason), .movedTo: .string(movedTo),
                    ])
            case .orphaned(let frame, let reason, let movedTo):
                state.setAside(.noPartner)
                logger.record(
                    .orphan, "\(frame.relativePath) set aside: \(reason)", level: .warning,
                    [
                        .file: .string(frame.relativePath), .role: .string(frame.role.rawValue),
                        .reason: .string(reason), .movedTo: .string(movedTo),
                    ])
            case .left(let file, let reason):
                logger.record(.inputLeft, "\(file): \(reason)", level: .notice, [.file: .string(file), .reason: .string(reason)])
            case .renamed(let file, let movedTo):
                logger.record(
                    .inputRenamed, "\(file) renamed to \(movedTo): its name is not valid UTF-8", level: .notice,
                    [.file: .string(file), .movedTo: .string(movedTo)])
            case .failed(let file, let reason):
                state.failed()
                logger.record(.error, "\(file): \(reason)", level: .error, [.file: .string(file), .reason: .string(reason)])
            }
        }
    }

    /// Journals when claims start waiting for disk space or descriptors, and when they go on.
    private func claimsWait(for reason: String?) {
        let before = state.counters.claimsWaitFor
        guard reason != before else { return }
        state.update { $0.claimsWaitFor = reason }
        if let reason {
            logger.record(.error, "pairs stay in the spool: \(reason)", level: .warning, [.reason: .string(reason)])
        } else {
            logger.record(.rescan, "pairs are claimed again (\(before ?? ""))")
        }
    }

    private func enqueue(_ item: WorkItem) {
        state.update { $0.queued += 1 }
        queue.yield(item)
    }
}
