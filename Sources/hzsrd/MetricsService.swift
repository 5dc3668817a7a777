import Logging
import ServiceLifecycle

/// Writes the metrics file (`metrics.textfile`) within a second of each pair or set-aside file,
/// every 15 seconds in any case (queue depth and waiting times change between pairs), and once
/// more on the way out. A file that cannot be written is an error entry when it starts failing
/// and another when it works again, not one every time.
struct MetricsService: Service {
    let state: DaemonState
    let logger: Logger

    func run() async {
        guard let file = state.metrics?.file else { preconditionFailure("MetricsService without metrics.textfile") }
        var failing = false, sinceWritten = Duration.zero
        write(file, &failing)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) } } catch { break }
            sinceWritten += .seconds(1)
            if state.counters.metricsChanged || sinceWritten >= .seconds(15) {
                write(file, &failing)
                sinceWritten = .zero
            }
        }
        write(file, &failing)
    }

    private func write(_ file: String, _ failing: inout Bool) {
        let error = state.writeMetrics()
        if let error, !failing {
            logger.record(
                .error, "cannot write the metrics file \(file): \(error)", level: .error,
                [.file: .string(file), .reason: .string("\(error)")])
        } else if error == nil, failing {
            logger.record(.rescan, "the metrics file \(file) is written again", [.file: .string(file)])
        }
        failing = error != nil
    }
}
