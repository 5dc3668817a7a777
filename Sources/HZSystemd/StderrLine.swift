import Logging

/// The fallback format used when no journald answers:
/// `<level> <message> KEY=value KEY="value with spaces"`, always a single line.
enum StderrLine {
    static func format(level: Logger.Level, message: String, fields: [JournalField]) -> String {
        var line = "\(level) \(escaped(message, insideQuotes: false))"
        for field in fields {
            line += " \(field.name)=\(quotedIfNeeded(field.value))"
        }
        return line
    }

    private static func quotedIfNeeded(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains {
                $0 == "\"" || $0 == "\\" || $0.properties.isWhitespace
            }
        return needsQuotes ? "\"\(escaped(value, insideQuotes: true))\"" : value
    }

    /// Escapes line breaks so an entry stays one line, and inside quotes also `"` and `\`
    /// so the value's end stays unambiguous. Works on scalars: `"\r\n"` is a single Character.
    private static func escaped(_ text: String, insideQuotes: Bool) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n":
                result.append(contentsOf: #"\n"#.unicodeScalars)
            case "\r":
                result.append(contentsOf: #"\r"#.unicodeScalars)
            case "\"" where insideQuotes, "\\" where insideQuotes:
                result.append("\\")
                result.append(scalar)
            default:
                result.append(scalar)
            }
        }
        return String(result)
    }
}
