import Foundation

/// Names that are not valid UTF-8 (a camera or a copy tool writing Latin-1, a damaged file
/// system) cannot be held in a Swift `String`: intake could neither open such a file nor name it
/// in a sidecar or the journal, and it would sit in the spool unseen. Intake renames each in place
/// first, every byte outside a valid UTF-8 sequence written as `%XX`, so that the new name still
/// reads like the old one and maps back to it by hand.
enum InvalidNames {
    /// The entries of `folder` (one level) whose names are not valid UTF-8, as raw bytes.
    static func find(in folder: String) -> [[UInt8]] {
        guard let stream = opendir(folder) else { return [] }
        defer { closedir(stream) }
        var found: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if String(validating: name, as: UTF8.self) == nil { found.append(name) }
        }
        return found
    }

    /// `name` with each byte that does not belong to a valid UTF-8 sequence written `%XX`.
    static func escaped(_ name: [UInt8]) -> String {
        var result = "", index = 0
        while index < name.count {
            // The longest valid sequence (1 to 4 bytes) starting here, else the byte escaped.
            let valid = (1...min(4, name.count - index)).lazy.compactMap { length in
                String(validating: name[index..<index + length], as: UTF8.self).map { ($0, length) }
            }.first
            if let (character, length) = valid {
                result += character
                index += length
            } else {
                result += String(format: "%%%02X", name[index])
                index += 1
            }
        }
        return result
    }

    /// Renames `folder`/`name` to `destination` (flushing the folder), the source given as bytes.
    static func rename(_ name: [UInt8], in folder: String, to destination: String) throws {
        let source = Array(folder.utf8) + [UInt8(ascii: "/")] + name + [0]
        let renamed = source.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { Foundation.rename($0.baseAddress!, destination) }
        }
        guard renamed == 0 else {
            throw SpoolError("cannot rename \(folder)/\(escaped(name)) to \(destination): \(String(cString: strerror(errno)))")
        }
        try syncFolder(folder)
    }
}
