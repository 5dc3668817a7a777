import Foundation
import HZSpool
import HZTestSupport
import XCTest

/// `hzsr reprocess` as a Slurm array job: Debian's slurm-wlm and munge started as plain processes
/// (Scripts/slurm-local), Deploy/slurm/reprocess.sbatch submitted as it ships.
final class ClusterTests: XCTestCase {
    /// Three array tasks over an archive of six pairs and a broken one: each good pair made once,
    /// the same bytes as one process makes, the broken file named in its task's log.
    func testASlurmArrayMakesEachPairOnceAndTheSameImagesAsOneProcess() throws {
        guard geteuid() == 0 else { throw XCTSkip("a local Slurm needs root") }
        for tool in ["/usr/sbin/slurmctld", "/usr/sbin/munged"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("\(tool) is missing (make test installs it)")
        }
        let scratch = try ScratchFolder("hzsr-cluster")
        try TestArchive.write(in: scratch, count: 7, brokenTele: 6)
        let hzsr = DaemonHarness.program("hzsr")
        let root = DaemonHarness.repositoryRoot.path
        XCTAssertEqual(try run(hzsr, ["reprocess", "archive", "--out", "single"], in: scratch.path).status, 1)

        let cluster = "\(scratch.path)/slurm"
        let started = try run("\(root)/Scripts/slurm-local", ["start", cluster], in: scratch.path)
        defer { _ = try? run("\(root)/Scripts/slurm-local", ["stop", cluster], in: scratch.path) }
        XCTAssertEqual(started.status, 0, started.output)
        // A bound on the wait, as a job that cannot be scheduled would pend forever.
        let submitted = try run(
            "/usr/bin/timeout",
            [
                "240", "/usr/bin/sbatch", "--array=0-2", "--wait", "--mem=500M", "--output=\(scratch.path)/task-%a.log",
                "--chdir=\(scratch.path)",
                "\(root)/Deploy/slurm/reprocess.sbatch", "archive", "sharded",
            ], in: scratch.path, environment: ["SLURM_CONF": "\(cluster)/slurm.conf", "HZSR": hzsr])
        XCTAssertTrue(submitted.output.hasPrefix("Submitted batch job"), submitted.output)

        let logs = try (0..<3).map { try String(contentsOfFile: "\(scratch.path)/task-\($0).log", encoding: .utf8) }
        let made = logs.compactMap { $0.firstMatch(of: /\): (\d+) made/).flatMap { Int($0.1) } }
        XCTAssertEqual(made.count, 3, "\(logs)")
        XCTAssertEqual(made.reduce(0, +), 6, "each good pair made by one task: \(logs)")
        XCTAssertEqual(logs.filter { $0.contains("/T/p6.jpg: ") }.count, 1, "the broken file named once: \(logs)")
        assertSameImages(in: scratch, "single", "sharded", count: 6)
    }

    private func run(
        _ tool: String, _ arguments: [String], in folder: String, environment: [String: String] = [:]
    ) throws -> (status: Int32, output: String) {
        // Output to a file rather than a pipe: nothing the cluster's daemons might keep open can
        // then hold the test up.
        let log = "\(folder)/\(UUID().uuidString).out"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process(), output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        (process.standardOutput, process.standardError) = (output, output)
        try process.run()
        process.waitUntilExit()
        try output.close()
        return (process.terminationStatus, try String(contentsOfFile: log, encoding: .utf8))
    }
}
