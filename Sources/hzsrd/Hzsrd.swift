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
        abstract: "Watch a W + T camera spool, pair frames and publish hybrid-zoom images.")

    @Option(help: "The config file (relative paths in it are resolved against the working directory).")
    var config: String = "/etc/hzsr/hzsrd.yaml"

    func run() async throws {
        JournalLogHandler.bootstrap(identifier: "hzsrd")
        let logger = Logger(label: "hzsrd")
        if let problem = VectorInstructions.missing() {
            logger.record(.error, "cannot start: \(problem)", level: .critical, ["HZ_REASON": .string(problem)])
            throw ExitCode(1)
        }
        let loaded: DaemonConfig
        do {
            loaded = try DaemonConfig.load(from: config, relativeTo: FileManager.default.currentDirectoryPath)
        } catch {
            logger.record(.error, "\(config): \(error)", level: .critical, ["HZ_CONFIG": .string(config), "HZ_REASON": .string("\(error)")])
            throw ExitCode(78)  // EX_CONFIG: systemd shows it as a configuration error
        }
        let state = DaemonState(config: loaded, configPath: config)
        let notifier = ManagerNotifications()
        let (queue, continuation) = AsyncStream.makeStream(of: WorkItem.self)
        // Graceful shutdown runs in reverse order: the worker finishes its pair first.
        let services: [any Service] = [
            NotifierService(state: state, notifier: notifier, logger: logger),
            ReloadService(state: state, notifier: notifier, logger: logger),
            IntakeService(state: state, queue: continuation, logger: logger, notifier: notifier),
            WorkerService(state: state, queue: queue, logger: logger),
        ]
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
