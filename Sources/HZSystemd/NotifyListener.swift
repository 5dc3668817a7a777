import Foundation
import Glibc

/// The receiving end of `sd_notify`: an AF_UNIX datagram socket, as systemd binds for a
/// `Type=notify` service. Lets `hzsr bench` and the integration tests start the daemon with
/// `NOTIFY_SOCKET` and hear `READY=1` and the rest exactly as systemd would.
///
/// A thread of its own drains the socket all the time, as systemd does: a listener that stops
/// reading fills the socket's queue, and then the sender's `sd_notify` blocks.
public final class NotifyListener: @unchecked Sendable {
    public let path: String
    private let socket: Int32
    private let lock = NSLock()
    private var received: [String] = []
    private var closed = false

    public init(path: String) throws {
        self.path = path
        unlink(path)
        socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard socket >= 0 else { throw SystemdNotifyError(code: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else {
            Glibc.close(socket)
            throw SystemdNotifyError(code: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            Glibc.close(socket)
            throw SystemdNotifyError(code: errno)
        }
        let reader = Thread { [self] in drain() }
        reader.name = "notify-listener"
        reader.start()
    }

    deinit {
        unlink(path)
    }

    /// Stops the reader and closes the socket.
    public func close() {
        lock.withLock { closed = true }
    }

    /// Every datagram received so far, in order, oldest first.
    public var messages: [String] { lock.withLock { received } }

    /// Waits up to `timeout` seconds for a datagram containing the line `assignment`
    /// (for example `READY=1`), received now or before.
    public func waitFor(_ assignment: String, timeout: Double) -> Bool {
        let deadline = Date() + timeout
        repeat {
            if messages.contains(where: { $0.split(separator: "\n").contains(Substring(assignment)) }) { return true }
            Thread.sleep(forTimeInterval: 0.02)
        } while Date() < deadline
        return false
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        while !lock.withLock({ closed }) {
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let text = String(decoding: buffer[..<count], as: UTF8.self)
            lock.withLock { received.append(text) }
        }
        Glibc.close(socket)
    }
}
