import ArgumentParser
import Foundation
import HZSpool
import HZSystemd
import Logging
import ServiceLifecycle

/// The daemon: a group of small services sharing one state.
@main
struct Hzsrd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch a W + T camera spool, pair frames and publish hybrid-zoom images.", version: hzsrVersion)

    @Option(help: "The config file (relative paths in it are resolved against the working directory).")
    var config: String = "/etc/hzsr/hzsrd.yaml"

    @Flag(help: "Check the config, its model and the folders it names, print ok or each problem, and exit (0, or 73, 77, 78 as at start).")
    var checkConfig = false

    func run() async throws {
        JournalLogHandler.bootstrap(identifier: "hzsrd")
        let logger = Logger(label: "hzsrd")
        if let problem = VectorInstructions.missing() {
            refuseToStart(problem, [.reason: .string(problem)], logger)
            throw ExitCode(1)
        }
        if checkConfig { throw ExitCode(check()) }
        let loaded: LoadedConfig
        do {
            loaded = try LoadedConfig(DaemonConfig.load(from: config, relativeTo: FileManager.default.currentDirectoryPath), file: config)
        } catch {
            refuseToStart("\(config): \(error)", [.config: .string(config), .reason: .string("\(error)")], logger)
            throw ExitCode(78)  // EX_CONFIG: systemd shows it as a configuration error
        }
        // Before anything runs: a folder the daemon cannot use stops it here, with the reason.
        let problems = FolderCheck.problems(loaded.config.paths, creating: true)
        for problem in problems {
            refuseToStart(
                "\(problem)",
                [
                    .config: .string(config), .file: .string(problem.path),
                    .reason: .string(problem.detail),
                ], logger)
        }
        if let first = problems.first { throw ExitCode(first.exitStatus) }
        for problem in FolderCheck.makeCameraFolders(loaded.config) {
            logger.record(.error, "cannot make a camera's folder: \(problem)", level: .warning, [.reason: .string(problem)])
        }
        let lock: SpoolLock
        do { lock = try SpoolLock(work: loaded.config.paths.work) } catch {
            refuseToStart("\(error)", [.config: .string(config), .file: .string(error.path), .reason: .string(error.problem)], logger)
            throw ExitCode(75)  // EX_TEMPFAIL: the other daemon may stop
        }
        let state = DaemonState(loaded: loaded, configPath: config)
        let notifier = ManagerNotifications()
        let (queue, continuation) = AsyncStream.makeStream(of: WorkItem.self)
        // Graceful shutdown runs in reverse order: the worker finishes its pair first.
        // A service that returns before shutdown stops the group: metrics run only when configured.
        let metrics: [any Service] = state.metrics == nil ? [] : [MetricsService(state: state, logger: logger)]
        let services: [any Service] =
            [NotifierService(state: state, notifier: notifier, logger: logger)] + metrics + [
                ReloadService(state: state, notifier: notifier, logger: logger),
                IntakeService(state: state, queue: continuation, logger: logger, notifier: notifier),
                WorkerService(state: state, queue: queue, requeue: continuation, logger: logger),
            ]
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        defer { withExtendedLifetime(lock) {} }  // held until the daemon ends
        try await group.run()
    }

    /// `--check-config`: what a start would find wrong with the config (every problem, the model
    /// included) and its folders, changing nothing.
    private func check() -> Int32 {
        let directory = FileManager.default.currentDirectoryPath
        let configProblems = DaemonConfig.problems(in: config, relativeTo: directory)
        for problem in configProblems { print("\(config): \(problem)") }
        guard configProblems.isEmpty, let parsed = try? DaemonConfig.load(from: config, relativeTo: directory) else { return 78 }
        let problems = FolderCheck.problems(parsed.paths, creating: false)
        for problem in problems { print("\(config): \(problem)") }
        if problems.isEmpty { print("ok") }
        return problems.first?.exitStatus ?? 0
    }

    /// A problem that stops the start: in the journal, and on stderr for whoever started it
    /// (unless stderr is the journal already, as under systemd).
    private func refuseToStart(_ message: String, _ fields: [JournalField: Logger.MetadataValue], _ logger: Logger) {
        logger.record(.error, "cannot start: \(message)", level: .critical, fields)
        if !standardErrorIsJournal() {
            FileHandle.standardError.write(Data("hzsrd: cannot start: \(message)\n".utf8))
        }
    }
}
