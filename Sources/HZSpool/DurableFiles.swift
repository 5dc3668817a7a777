import Foundation
import HybridZoom

// The file system is the daemon's state, so each change to it is made durable before the next
// step relies on it: a file's bytes are flushed before it is renamed into place, and a folder is
// flushed after an entry appears in it or leaves it, or a power cut could undo a rename that was
// already reported done (or leave a frame under two names and process it twice).

/// An atomic rename(2) that explains itself, then flushes both folders; never copies (a copy
/// would not be atomic).
func rename(_ source: String, to destination: String) throws {
    guard Foundation.rename(source, destination) == 0 else {
        let reason = errno == EXDEV ? "they are on different file systems" : String(cString: strerror(errno))
        throw SpoolError("cannot move \(source) to \(destination): \(reason)")
    }
    let from = parentFolder(source), to = parentFolder(destination)
    try syncFolder(to)
    if from != to { try syncFolder(from) }
}

/// Writes to a hidden temporary name in the same folder, flushes, then renames over `path`. On
/// failure (a full disk) the partial temporary file is removed: it would only hold space.
/// `mode`, when given, is the file's whatever the umask.
func writeAtomically(_ data: Data, to path: String, mode: mode_t? = nil) throws {
    let staging = "\(parentFolder(path))/.\((path as NSString).lastPathComponent).tmp"
    do {
        try writeDurably(data, to: staging, mode: mode)
        try rename(staging, to: path)
    } catch {
        unlink(staging)
        throw error
    }
}

/// Writes `data` to `path` (created or truncated) and flushes it to disk.
func writeDurably(_ data: Data, to path: String, mode: mode_t? = nil) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw SpoolError("cannot write \(path): \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    if let mode, fchmod(descriptor, mode) != 0 { throw SpoolError("cannot set the mode of \(path): \(String(cString: strerror(errno)))") }
    try data.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            guard written > 0 else { throw SpoolError("cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += written
        }
    }
    guard fsync(descriptor) == 0 else { throw SpoolError("cannot flush \(path): \(String(cString: strerror(errno)))") }
}

/// Creates `path` and any missing folders above it, flushing the folder each new one appears in.
func createFolderDurably(_ path: String) throws {
    var info = stat()
    if stat(path, &info) == 0 {
        guard info.st_mode & S_IFMT == S_IFDIR else { throw SpoolError("cannot create \(path): a file is in the way") }
        return
    }
    let parent = parentFolder(path)
    if parent != path { try createFolderDurably(parent) }
    guard mkdir(path, 0o777) == 0 || errno == EEXIST else {
        throw SpoolError("cannot create \(path): \(String(cString: strerror(errno)))")
    }
    try syncFolder(parent)
}

/// Flushes a folder's entries. File systems that cannot (EINVAL) have nothing to flush.
func syncFolder(_ path: String) throws {
    let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard descriptor >= 0 else { throw SpoolError("cannot open \(path) to flush it: \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    guard fsync(descriptor) == 0 || errno == EINVAL else {
        throw SpoolError("cannot flush \(path): \(String(cString: strerror(errno)))")
    }
}

/// `path`, or the first of `stem-2.ext`, `stem-3.ext`, … that nothing is at.
func uniquePath(_ path: String) -> String {
    let stem = (path as NSString).deletingPathExtension, ext = (path as NSString).pathExtension
    var candidate = path, counter = 2
    while lstatExists(candidate) {
        candidate = ext.isEmpty ? "\(stem)-\(counter)" : "\(stem)-\(counter).\(ext)"
        counter += 1
    }
    return candidate
}

/// Whether anything (a dangling symlink too) is at `path`.
func lstatExists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}

/// Whether `path` lies inside the folder `folder` (both absolute and standardized).
func isInside(_ path: String, _ folder: String) -> Bool {
    path != folder && path.hasPrefix(folder == "/" ? "/" : folder + "/")
}

private func parentFolder(_ path: String) -> String {
    let parent = (path as NSString).deletingLastPathComponent
    return parent.isEmpty ? "." : parent
}

/// `name`, or, when it is longer than `limit` bytes of UTF-8, its beginning cut at a character
/// and a stable hash of the whole (`~` and 8 hex digits), its extension kept: names the daemon
/// makes from an input's name (a pair's id, a set-aside file with its `.reason` and temporary
/// names beside it) must stay under NAME_MAX (255 bytes) and two long names that share a
/// beginning must stay apart.
func bounded(_ name: String, bytes limit: Int) -> String {
    guard name.utf8.count > limit else { return name }
    let ext = (name as NSString).pathExtension
    let hash = stableHash(name.utf8)
    let tail = "~" + String(format: "%08x", UInt32(truncatingIfNeeded: hash ^ (hash >> 32))) + (ext.isEmpty || ext.utf8.count > 16 ? "" : ".\(ext)")
    var head = Substring(name)
    while head.utf8.count + tail.utf8.count > limit { head = head.dropLast() }
    return head + tail
}

/// A whole file's bytes, read straight into the array (a frame of 100 MP is tens of megabytes:
/// no second copy), refused above `limit` bytes as the open file says; the error names the file.
func readBytes(_ path: String, atMost limit: Int = .max) throws -> [UInt8] {
    func failure() -> SpoolError { SpoolError("cannot read \(path): \(String(cString: strerror(errno)))") }
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw failure() }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { throw failure() }
    let size = Int(info.st_size)
    guard size <= limit else { throw SpoolError("cannot read \(path): \(size) bytes, more than \(limit)") }
    guard size > 0 else { return [] }
    return try [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
        count = 0
        while count < size {
            let done = read(descriptor, buffer.baseAddress! + count, size - count)
            if done < 0, errno == EINTR { continue }
            if done < 0 { throw failure() }
            if done == 0 { break }  // it shrank since fstat: what is there
            count += done
        }
    }
}

/// Every file below `folder` (anything but a folder), as sorted paths relative to it.
func files(below folder: String) -> [String] {
    guard let walk = FileManager.default.enumerator(atPath: folder) else { return [] }
    var files: [String] = []
    while let relative = walk.nextObject() as? String {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: "\(folder)/\(relative)", isDirectory: &isFolder), !isFolder.boolValue {
            files.append(relative)
        }
    }
    return files.sorted()
}
