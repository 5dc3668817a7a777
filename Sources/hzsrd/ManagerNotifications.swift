import Dispatch
import HZSystemd

/// `sd_notify` from a queue of its own. libsystemd's send blocks while the service manager's
/// socket is full; the daemon's services must not stall on that, and shutdown must not hang.
struct ManagerNotifications: Sendable {
    private let notifier = SystemdNotifier()
    private let queue = DispatchQueue(label: "hzsrd.sd-notify")

    var watchdogInterval: Duration? { notifier.watchdogInterval }

    /// Sends in the background, in the order posted.
    func post(_ send: @escaping @Sendable (SystemdNotifier) throws -> Void) {
        queue.async { [notifier] in try? send(notifier) }
    }

    /// Sends and waits up to `timeout` seconds for it to go out, for the last words before exit.
    func postAndWait(timeout: Double, _ send: @escaping @Sendable (SystemdNotifier) throws -> Void) {
        let sent = DispatchSemaphore(value: 0)
        queue.async { [notifier] in
            try? send(notifier)
            sent.signal()
        }
        _ = sent.wait(timeout: .now() + timeout)
    }
}
