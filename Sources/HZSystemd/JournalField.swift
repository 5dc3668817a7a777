import Logging

/// One `NAME=value` pair of a journal entry.
struct JournalField: Sendable, Equatable {
    let name: String
    let value: String
}

extension JournalField {
    /// The journal drops fields whose names break its rules, so metadata keys are mapped onto them:
    /// lowercase ASCII letters are uppercased, every other character outside `A-Z`, `0-9` and `_`
    /// becomes `_`, a name not starting with a letter gets the prefix `F_` (a leading `_` would
    /// claim a trusted field such as `_PID`), and the result is cut to 64 characters.
    static func sanitizedName(_ key: String) -> String {
        let name = String(String.UnicodeScalarView(key.unicodeScalars.map(nameCharacter)))
        let startsWithLetter = name.unicodeScalars.first.map { ("A"..."Z").contains($0) } ?? false
        return String((startsWithLetter ? name : "F_" + name).prefix(maxNameLength))
    }

    private static let maxNameLength = 64

    private static func nameCharacter(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar {
        case "A"..."Z", "0"..."9", "_": scalar
        case "a"..."z": Unicode.Scalar(UInt8(scalar.value) - 0x20)  // ASCII upper case
        default: "_"
        }
    }
}

extension Logger.MetadataValue {
    /// Leaves as their plain text; containers as compact JSON-like text with sorted keys,
    /// so equal metadata always yields equal field values.
    var journalText: String {
        switch self {
        case .string(let text):
            text
        case .stringConvertible(let value):
            value.description
        case .array(let elements):
            "[" + elements.map(\.nestedJournalText).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            "{"
                + dictionary.sorted { $0.key < $1.key }
                .map { "\($0.key.debugDescription):\($0.value.nestedJournalText)" }
                .joined(separator: ",") + "}"
        }
    }

    /// Quotes leaves inside containers so their boundaries stay visible.
    private var nestedJournalText: String {
        switch self {
        case .string, .stringConvertible: journalText.debugDescription
        case .array, .dictionary: journalText
        }
    }
}

extension Logger.Level {
    /// The syslog priority journald stores in `PRIORITY`.
    var syslogPriority: Int {
        switch self {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
