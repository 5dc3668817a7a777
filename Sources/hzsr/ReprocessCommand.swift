import ArgumentParser
import Foundation
import HZSpool
import HybridZoom

/// `hzsr reprocess ARCHIVE --out DIR [--shard I/N]`: an archive's pairs made again with the
/// daemon's pipeline, on one machine or split over many.
struct ReprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprocess", abstract: "Make an archive's pairs again with the daemon's pipeline (after a model update, say).",
        discussion: """
            ARCHIVE is the daemon's archive folder (archive/<day>/<pair>/ with manifest.json, W/ and T/). The images \
            and sidecars go to DIR/<day>/ as the daemon publishes them. A pair whose sidecar in DIR says it was made \
            with this version, model and config is skipped, so a rerun finishes what an interrupted run left. \
            --shard I/N makes only shard I (0 to N-1) of N, chosen by a hash of the pair's id: N processes, on one \
            machine or many, make each pair exactly once. Exit status 1 when a pair could not be made.
            """)

    @Argument(help: "The daemon's archive folder.") var archive: String
    @Option(help: "Where the images and sidecars go.") var out: String
    @Option(help: "The config whose pipeline makes them (default: the defaults).") var config: String?
    @Option(help: "I/N: make shard I (0-based) of N only.") var shard: Shard?

    struct Shard: ExpressibleByArgument {
        var index: Int, count: Int

        init?(argument: String) {
            let parts = argument.split(separator: "/").compactMap { Int($0) }
            guard parts.count == 2, parts[1] >= 1, (0..<parts[1]).contains(parts[0]) else { return nil }
            (index, count) = (parts[0], parts[1])
        }
    }

    func run() throws {
        let config = try loadConfig(self.config)
        // Absolute, as the sidecars record where inputs are.
        let (archive, out) = (URL(fileURLWithPath: archive).standardizedFileURL.path, URL(fileURLWithPath: out).standardizedFileURL.path)
        let reprocessor = try Reprocessor(config: config, fusion: FusionStage(config.fusion), configFile: self.config, output: out)
        let (all, problems) = try Reprocessor.pairs(in: archive)
        for problem in problems { report("skipped \(problem.folder): \(problem.problem)") }
        let pairs = shard.map { Reprocessor.shard(all, index: $0.index, of: $0.count) } ?? all
        var progress = Progress(total: pairs.count)
        for pair in pairs {
            do {
                switch try reprocessor.run(pair) {
                case .made(let record, let afterwards):
                    progress.made[record.decision.description, default: 0] += 1
                    if !afterwards.isEmpty { progress.clear() }
                    for problem in afterwards { report("made \(pair.folder), then: \(problem)") }
                case .done: progress.done += 1
                }
            } catch {
                progress.failed += 1
                progress.clear()
                report("failed \(pair.folder): \(error)")
            }
            progress.show()
        }
        progress.clear()
        let shardText = shard.map { " (shard \($0.index)/\($0.count) of \(all.count) pairs)" } ?? ""
        print("\(pairs.count) pairs\(shardText): \(progress.summary)")
        if progress.failed > 0 || !problems.isEmpty { throw ExitCode.failure }
    }

    /// A one-line bar on stderr when it is a terminal, redrawn after each pair.
    private struct Progress {
        let total: Int
        var made: [String: Int] = [:], done = 0, failed = 0
        private let onTerminal = isatty(STDERR_FILENO) == 1

        init(total: Int) { self.total = total }

        var summary: String {
            let decisions = made.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key)" }
            let madeCount = made.values.reduce(0, +)
            return "\(madeCount) made" + (decisions.isEmpty ? "" : " (\(decisions.joined(separator: ", ")))")
                + ", \(done) already done, \(failed) failed"
        }

        func show() {
            guard onTerminal else { return }
            let finished = made.values.reduce(0, +) + done + failed, width = 30
            let filled = total == 0 ? width : width * finished / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(finished)/\(total)  \(summary)\u{1B}[K".utf8))
        }

        func clear() {
            if onTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        }
    }
}
