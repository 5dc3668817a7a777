import Foundation

/// Reads entries back from the real journal with journalctl, the way an operator would.
public enum JournalReader {
    /// Entries matching every `FIELD=value` in `matches`, polling until at least `count` are there
    /// or `timeout` passes, because journald writes asynchronously.
    public static func entries(
        matching matches: [String], count: Int = 1,
        timeout: Duration = .seconds(10)
    ) throws -> [[String: String]] {
        let deadline = ContinuousClock.now + timeout
        var found = try entriesNow(matching: matches)
        while found.count < count, ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            found = try entriesNow(matching: matches)
        }
        return found
    }

    /// The first entry matching `match` (`FIELD=value`), or nil after `timeout`.
    public static func entry(matching match: String, timeout: Duration = .seconds(10)) throws -> [String: String]? {
        try entries(matching: [match], timeout: timeout).first
    }

    private static func entriesNow(matching matches: [String]) throws -> [[String: String]] {
        // --all: without it journalctl replaces long or unprintable values with null.
        let output = try journalctl(["--all", "--output=json"] + matches)
        return try output.split(separator: UInt8(ascii: "\n")).map { line in
            try JSONDecoder().decode([String: FieldValue].self, from: line).mapValues(\.text)
        }
    }

    private static func journalctl(_ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["journalctl"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw JournalctlFailed(arguments: arguments, status: process.terminationStatus)
        }
        return data
    }

    /// journalctl prints a value as a JSON string, or as an array of byte values when it holds
    /// invalid UTF-8 or control characters (systemd 252 keeps newlines in strings, other versions may not).
    private struct FieldValue: Decodable {
        let text: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self.text = text
            } else {
                text = String(decoding: try container.decode([UInt8].self), as: UTF8.self)
            }
        }
    }

    public struct JournalctlFailed: Error {
        public let arguments: [String]
        public let status: Int32
    }
}
