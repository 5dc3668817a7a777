import CSystemd
import Glibc

/// Sends fields to journald as one entry.
enum JournalEntry {
    /// journald's socket. libsystemd reports success when it is missing (to it, no journal is not
    /// an error), and the entry is lost: that counts as -ENOENT here, so that callers fall back.
    static let socket = "/run/systemd/journal/socket"

    /// Returns 0 on success or a negative errno, as `sd_journal_sendv` does.
    ///
    /// All `NAME=value` pairs share one byte buffer and the iovecs live on the stack, so an entry
    /// costs one allocation however many fields it has. The iovec form is binary-safe: values may
    /// contain newlines or any UTF-8.
    static func send(_ fields: [JournalField]) -> Int32 {
        guard access(socket, F_OK) == 0 else { return -ENOENT }
        let bytes = serialized(fields)
        return bytes.withUnsafeBytes { buffer in
            withUnsafeTemporaryAllocation(of: iovec.self, capacity: fields.count) { iovecs in
                var offset = 0
                for (index, field) in fields.enumerated() {
                    let length = serializedLength(field)
                    iovecs[index] = iovec(
                        iov_base: UnsafeMutableRawPointer(mutating: buffer.baseAddress?.advanced(by: offset)),
                        iov_len: length)
                    offset += length
                }
                return sd_journal_sendv(iovecs.baseAddress, Int32(fields.count))
            }
        }
    }

    private static func serialized(_ fields: [JournalField]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(0) { $0 + serializedLength($1) })
        for field in fields {
            bytes.append(contentsOf: field.name.utf8)
            bytes.append(UInt8(ascii: "="))
            bytes.append(contentsOf: field.value.utf8)
        }
        return bytes
    }

    private static func serializedLength(_ field: JournalField) -> Int {
        field.name.utf8.count + 1 + field.value.utf8.count
    }
}
