import Foundation
import HZSpool
import HZSystemd
import HZTestSupport
import XCTest

/// A real hzsrd process in a scratch folder, started the way systemd starts it: with
/// `NOTIFY_SOCKET` pointing at a datagram socket the test reads.
final class DaemonHarness {
    let scratch: ScratchFolder
    let notifications: NotifyListener
    private(set) var process: Process
    let configPath: String

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The built programs: `.build/debug`, or `HZSR_BIN_DIR` (make sanitize points it at the
    /// sanitized build).
    static func program(_ name: String) -> String {
        let folder = ProcessInfo.processInfo.environment["HZSR_BIN_DIR"] ?? repositoryRoot.appendingPathComponent(".build/debug").path
        let path = "\(folder)/\(name)"
        precondition(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: run `swift build` first (make test does)")
        return path
    }

    static var binary: String { program("hzsrd") }

    /// How many times longer than its limit a timed step may take: for programs built with a
    /// sanitizer, which run slower, what `make sanitize` sets in `HZSR_SANITIZED` (3 for
    /// AddressSanitizer, 10 for ThreadSanitizer); else 1.
    static var timeScale: Double { ProcessInfo.processInfo.environment["HZSR_SANITIZED"].flatMap(Double.init) ?? 1 }

    init(config: String) throws {
        scratch = try ScratchFolder("hzsrd-it")
        configPath = "\(scratch.path)/hzsrd.yaml"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        notifications = try NotifyListener(path: "\(scratch.path)/notify.sock")
        process = Process()
        try start()
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        notifications.close()
    }

    /// Starts (or restarts) the daemon and waits for READY=1.
    func start(file: StaticString = #filePath, line: UInt = #line) throws {
        let readyBefore = notifications.messages.filter { $0.contains("READY=1") }.count
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--config", configPath]
        process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
        // As systemd passes them for WatchdogSec=10s (generous: a debug build is slow).
        let systemd = ["NOTIFY_SOCKET": notifications.path, "WATCHDOG_USEC": "10000000"]
        process.environment = ProcessInfo.processInfo.environment.merging(systemd) { $1 }
        try process.run()
        let ready = eventually(timeout: 20) { self.notifications.messages.filter { $0.contains("READY=1") }.count > readyBefore }
        XCTAssertTrue(ready, "hzsrd did not send READY=1", file: file, line: line)
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// What is in `work/` besides the daemon's lock: the pairs in flight.
    var inWork: [String] { scratch.files(in: "work").filter { $0 != SpoolLock.fileName } }

    /// Published sidecars, as `<day>/<pair>.json`.
    var sidecars: [String] { scratch.files(in: "out").filter { $0.hasSuffix(".json") } }

    /// Waits until `condition` holds or `timeout` seconds (times `timeScale`) pass; returns
    /// whether it held.
    @discardableResult
    func eventually(timeout: Double = 15, _ condition: () -> Bool) -> Bool {
        let deadline = Date() + timeout * Self.timeScale
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition()
    }
}

/// The same `count` images, byte for byte, below `first` and `second` in `scratch`: what one
/// process and its shards made.
func assertSameImages(
    in scratch: ScratchFolder, _ first: String, _ second: String, count: Int, file: StaticString = #filePath, line: UInt = #line
) {
    let images = scratch.files(in: first).filter { $0.hasSuffix(".jpg") }
    XCTAssertEqual(images.count, count, file: file, line: line)
    XCTAssertEqual(scratch.files(in: second).filter { $0.hasSuffix(".jpg") }, images, file: file, line: line)
    for image in images {
        XCTAssertEqual(
            FileManager.default.contents(atPath: "\(scratch.path)/\(first)/\(image)"),
            FileManager.default.contents(atPath: "\(scratch.path)/\(second)/\(image)"), "\(image) differs", file: file, line: line)
    }
}
