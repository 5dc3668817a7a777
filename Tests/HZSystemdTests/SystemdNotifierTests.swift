import Glibc
import HZSystemd
import XCTest

final class SystemdNotifierTests: XCTestCase {
    func testEachStateArrivesAsItsOwnDatagram() throws {
        let socket = try NotifyListener(path: "/tmp/hz-notify-\(getpid())-\(UInt32.random(in: .min ... .max)).sock")
        defer { socket.close() }
        try withEnvironment(["NOTIFY_SOCKET": socket.path]) {
            let notifier = SystemdNotifier()
            XCTAssertTrue(notifier.isEnabled)
            try notifier.ready()
            try notifier.status("queue 3")
            try notifier.watchdog()
            try notifier.stopping()
        }
        XCTAssertTrue(socket.waitFor("STOPPING=1", timeout: 2))
        XCTAssertEqual(socket.messages, ["READY=1", "STATUS=queue 3", "WATCHDOG=1", "STOPPING=1"])
    }

    func testStatusTextCannotAddAssignments() throws {
        let socket = try NotifyListener(path: "/tmp/hz-notify-\(getpid())-\(UInt32.random(in: .min ... .max)).sock")
        defer { socket.close() }
        try withEnvironment(["NOTIFY_SOCKET": socket.path]) {
            try SystemdNotifier().status("paused\nREADY=1")
        }
        XCTAssertTrue(socket.waitFor("STATUS=paused READY=1", timeout: 2))
        XCTAssertEqual(socket.messages, ["STATUS=paused READY=1"])
    }

    func testReloadingCarriesTheMonotonicClock() throws {
        let socket = try NotifyListener(path: "/tmp/hz-notify-\(getpid())-\(UInt32.random(in: .min ... .max)).sock")
        defer { socket.close() }
        let before = monotonicMicroseconds()
        try withEnvironment(["NOTIFY_SOCKET": socket.path]) {
            try SystemdNotifier().reloading()
        }
        let after = monotonicMicroseconds()
        XCTAssertTrue(socket.waitFor("RELOADING=1", timeout: 2))
        let lines = try XCTUnwrap(socket.messages.first).split(separator: "\n")
        XCTAssertEqual(lines.first, "RELOADING=1")
        let stamp = try XCTUnwrap(lines.last?.split(separator: "=", maxSplits: 1))
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(stamp.first, "MONOTONIC_USEC")
        let microseconds = try XCTUnwrap(UInt64(stamp.last ?? ""))
        XCTAssertTrue((before...after).contains(microseconds), "\(microseconds) not in \(before)...\(after)")
    }

    func testWithoutNotifySocketNothingIsSent() throws {
        try withEnvironment(["NOTIFY_SOCKET": nil]) {
            let notifier = SystemdNotifier()
            XCTAssertFalse(notifier.isEnabled)
            try notifier.ready()
        }
    }

    func testUnreachableSocketThrows() throws {
        try withEnvironment(["NOTIFY_SOCKET": "/tmp/hz-notify-nobody-listens.sock"]) {
            XCTAssertThrowsError(try SystemdNotifier().ready()) { error in
                XCTAssertEqual((error as? SystemdNotifyError)?.code, ENOENT)
            }
        }
    }

    func testWatchdogIntervalIsHalfOfWatchdogUsec() {
        withEnvironment(["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": String(getpid())]) {
            XCTAssertEqual(SystemdNotifier().watchdogInterval, .seconds(1))
        }
    }

    func testNoWatchdogIntervalWithoutWatchdog() {
        withEnvironment(["WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]) {
            XCTAssertNil(SystemdNotifier().watchdogInterval)
        }
    }

    func testNoWatchdogIntervalWhenWatchdogIsForAnotherProcess() {
        withEnvironment(["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": String(getpid() + 1)]) {
            XCTAssertNil(SystemdNotifier().watchdogInterval)
        }
    }

    private func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
