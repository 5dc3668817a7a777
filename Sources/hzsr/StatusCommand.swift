import ArgumentParser
import Foundation
import HZSpool

/// `hzsr status`: a spool's state from its folders and recent sidecars, without asking the daemon.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a spool's state: frames waiting, pairs in work, today's decisions, set-aside files, the last pairs.",
        discussion: """
            Read from the folders the config names and the sidecars in the output folder; the daemon need not run, \
            and nothing is changed. Under systemd: hzsr status --config /etc/hzsr/hzsrd.yaml --directory /var/lib/hzsr
            """)

    @Option(help: "The daemon's config file.") var config: String = "/etc/hzsr/hzsrd.yaml"
    @Option(help: "The daemon's working directory, which relative paths in the config are resolved against (default: this one).")
    var directory: String?
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() throws {
        let config = try DaemonConfig.load(from: config, relativeTo: directory ?? FileManager.default.currentDirectoryPath)
        let status = SpoolStatus(config: config)
        if json {
            FileHandle.standardOutput.write(try status.json() + Data("\n".utf8))
        } else {
            print(text(status), terminator: "")
        }
    }

    private func text(_ status: SpoolStatus) -> String {
        var lines = [
            "spool \(status.spool): " + (status.daemonPid.map { "hzsrd (pid \($0)) is using it" } ?? "no hzsrd is using it"),
            "waiting for a partner: " + status.waiting.sorted { $0.key > $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
            "in work: \(status.inWork) pairs",
            "published in today's folder, \(status.day): \(status.publishedToday.values.reduce(0, +))"
                + status.publishedToday.sorted { $0.value > $1.value }.map { ", \($0.value) \($0.key)" }.joined(),
        ]
        for (name, files) in [("quarantined", status.quarantined), ("orphaned", status.orphaned)] {
            lines.append("\(name): \(files.count)" + (files.count > 20 ? " (the last 20)" : ""))
            lines += files.suffix(20).map { "  \($0.file): \($0.reason)" }
        }
        lines.append("last \(status.recent.count) pairs:")
        lines += status.recent.map {
            "  \(TimeFormat.iso8601($0.publishedAt))  \($0.pair)  \($0.decision)  \(Int($0.latencyMs.rounded())) ms"
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
