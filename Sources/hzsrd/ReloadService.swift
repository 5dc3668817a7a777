import Foundation
import HZSpool
import HZSystemd
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP re-reads the config. A config that does not validate is logged with its error and the
/// old one stays; the spool folders cannot change without a restart (pairs in flight live there).
struct ReloadService: Service {
    let state: DaemonState
    let notifier: ManagerNotifications
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            notifier.post { try $0.reloading() }
            reload()
            notifier.post { try $0.ready() }
        }
    }

    private func reload() {
        let directory = FileManager.default.currentDirectoryPath
        do {
            let config = try DaemonConfig.load(from: state.configPath, relativeTo: directory)
            guard config.paths == state.config.paths else {
                throw ConfigError(key: "paths", line: nil, problem: "cannot change on reload; restart hzsrd to move folders")
            }
            guard config.metricsTextfile == state.config.metricsTextfile else {
                throw ConfigError(key: "metrics.textfile", line: nil, problem: "cannot change on reload; restart hzsrd to move it")
            }
            state.loaded = try LoadedConfig(config, file: state.configPath, reusing: state.loaded)
            logger.record(.reloaded, "reloaded \(state.configPath)", [.config: .string(state.configPath)])
        } catch {
            logger.record(
                .error, "reload of \(state.configPath) failed, keeping the previous config: \(error)",
                level: .error, [.config: .string(state.configPath), .reason: .string("\(error)")])
        }
    }
}
