import Foundation

/// Writes files into a spool the ways real writers do, so the daemon meets all of them.
enum WriteMode: String, CaseIterable {
    /// Open the final name, write in chunks, close (IN_CLOSE_WRITE), as many tethering tools do.
    case inPlace = "in-place"
    /// gphoto2: write `tmpfile` + six random characters, then rename to the final name (IN_MOVED_TO).
    case tempRename = "temp-rename"
    /// rsync and browsers: write `.name.part`, then rename.
    case partRename = "part-rename"

    func write(_ bytes: [UInt8], to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        switch self {
        case .inPlace:
            try writeInChunks(bytes, to: path)
        case .tempRename:
            let staging = "\(folder)/tmpfile\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
            try writeInChunks(bytes, to: staging)
            guard rename(staging, path) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        case .partRename:
            let staging = "\(folder)/.\((path as NSString).lastPathComponent).part"
            try writeInChunks(bytes, to: staging)
            guard rename(staging, path) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        }
    }

    /// Several writes, as a camera link delivers data, so a watcher can see a partial file.
    private func writeInChunks(_ bytes: [UInt8], to path: String) throws {
        guard
            let handle = FileHandle(forWritingAtPath: path)
                ?? (FileManager.default.createFile(atPath: path, contents: nil) ? FileHandle(forWritingAtPath: path) : nil)
        else { throw POSIXError(.EACCES) }
        defer { try? handle.close() }
        try handle.truncate(atOffset: 0)
        let chunk = 256 * 1024
        for start in stride(from: 0, to: bytes.count, by: chunk) {
            try handle.write(contentsOf: bytes[start..<min(start + chunk, bytes.count)])
        }
    }
}
