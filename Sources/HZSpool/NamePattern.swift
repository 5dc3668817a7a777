/// A regular expression from the config, matched against file names.
///
/// `Regex` is not `Sendable` because its output type could hold anything; this one is built once
/// from a string, never mutated, and its matches are plain substrings, so sharing it is safe.
public struct NamePattern: @unchecked Sendable {
    public let source: String
    private let regex: Regex<AnyRegexOutput>

    public init(_ source: String) throws {
        self.source = source
        self.regex = try Regex(source)
    }

    public func matches(_ name: String) -> Bool {
        (try? regex.firstMatch(in: name)) != nil
    }

    /// The named capture groups of the first match, or nil when the name does not match.
    public func groups(in name: String) -> [String: String]? {
        guard let match = try? regex.firstMatch(in: name) else { return nil }
        var groups: [String: String] = [:]
        for element in match.output {
            if let key = element.name, let text = element.substring { groups[key] = String(text) }
        }
        return groups
    }
}
