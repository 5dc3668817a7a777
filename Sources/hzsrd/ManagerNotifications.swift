import Dispatch
import HZSystemd
import HybridZoom
import Synchronization

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

    /// Sends, and returns once it went out or `timeout` passed, whichever is first: for the last
    /// words before exit, which must not hang on a stalled manager.
    func postAndWait(timeout: Duration, _ send: @escaping @Sendable (SystemdNotifier) throws -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let once = ResumeOnce(done)
            queue.async { [notifier] in
                try? send(notifier)
                once.resume()
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout.milliseconds / 1000) { once.resume() }
        }
    }
}

/// Resumes a continuation the first time it is asked to, and ignores the rest.
private final class ResumeOnce: Sendable {
    private let continuation: CheckedContinuation<Void, Never>
    private let resumed = Atomic(false)

    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }

    func resume() {
        if !resumed.exchange(true, ordering: .acquiringAndReleasing) { continuation.resume() }
    }
}
