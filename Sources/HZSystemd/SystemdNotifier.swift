import CSystemd
import Glibc

/// Tells the service manager about the daemon's state through `sd_notify`.
///
/// Every call is a no-op when `NOTIFY_SOCKET` is unset (not started by systemd with
/// `Type=notify`). The environment is never unset, so child processes and later calls still see it.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// Whether a service manager listens, i.e. `NOTIFY_SOCKET` is set.
    public var isEnabled: Bool {
        getenv("NOTIFY_SOCKET") != nil
    }

    /// How often to call ``watchdog()``: half of `WATCHDOG_USEC`, leaving a margin for scheduling
    /// delays; nil when systemd does not watch this process.
    public var watchdogInterval: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0 else { return nil }
        return .microseconds(microseconds) / 2
    }

    public func ready() throws(SystemdNotifyError) {
        try send(["READY=1"])
    }

    /// Shown by `systemctl status`; line breaks become spaces so the text cannot add assignments.
    public func status(_ text: String) throws(SystemdNotifyError) {
        try send(["STATUS=" + String(text.map { $0.isNewline ? " " : $0 })])
    }

    public func watchdog() throws(SystemdNotifyError) {
        try send(["WATCHDOG=1"])
    }

    public func stopping() throws(SystemdNotifyError) {
        try send(["STOPPING=1"])
    }

    /// systemd 253 and later require `MONOTONIC_USEC` with `RELOADING=1` for
    /// `Type=notify-reload`; older versions ignore it.
    public func reloading() throws(SystemdNotifyError) {
        try send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"])
    }

    /// Sends `NAME=value` assignments in one datagram.
    public func send(_ assignments: [String]) throws(SystemdNotifyError) {
        let result = sd_notify(0, assignments.joined(separator: "\n"))
        if result < 0 {
            throw SystemdNotifyError(code: -result)
        }
    }

    private static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}

/// `sd_notify` failed to reach the service manager.
public struct SystemdNotifyError: Error, CustomStringConvertible {
    /// The `errno` value.
    public let code: Int32

    public var description: String {
        "sd_notify failed: \(String(cString: strerror(code)))"
    }
}
