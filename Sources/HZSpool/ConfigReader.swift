import Yams

/// A configuration problem, named by its key path (`pairing.tolerance`) and line.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let key: String
    public let line: Int?
    public let problem: String

    public init(key: String, line: Int?, problem: String) {
        self.key = key
        self.line = line
        self.problem = problem
    }

    public var description: String {
        let place = line.map { "\(key) (line \($0))" } ?? key
        return "\(place): \(problem)"
    }
}

/// Every problem found in one config, each section's first and every unknown key, in file order:
/// one run of `hzsrd --check-config` names them all instead of one per edit.
public struct ConfigProblems: Error, CustomStringConvertible, Equatable {
    public let errors: [ConfigError]

    public init(_ errors: [ConfigError]) {
        self.errors = errors.sorted { ($0.line ?? .max, $0.key) < ($1.line ?? .max, $1.key) }
    }

    public var description: String { errors.map(\.description).joined(separator: "; ") }
}

/// The problems found so far while reading one config, shared by all its sections.
final class ConfigProblemList {
    private(set) var errors: [ConfigError] = []

    func record(_ error: ConfigError) { errors.append(error) }

    /// Reads one part of the config; a problem is recorded and the part is nil, so the reading
    /// goes on with the next part.
    func collect<Value>(_ read: () throws -> Value) -> Value? {
        do { return try read() } catch let error as ConfigError {
            record(error)
        } catch {
            record(ConfigError(key: "(file)", line: nil, problem: "\(error)"))
        }
        return nil
    }
}

/// Walks one YAML mapping, reading typed values by key. An unknown (misspelt) key is a problem
/// rather than a silently ignored setting; it is recorded, and the values are read on.
struct ConfigSection {
    let path: String
    private let mapping: Node.Mapping?
    private let line: Int?
    private let problems: ConfigProblemList

    init(root node: Node?, path: String = "", problems: ConfigProblemList) throws {
        self.path = path
        self.problems = problems
        self.line = node?.mark?.line
        switch node {
        case nil: mapping = nil
        case .mapping(let mapping)?: self.mapping = mapping
        case .scalar(let scalar)? where scalar.string.isEmpty || scalar.string == "~": mapping = nil  // `key:` with nothing
        case .some(let other):
            throw ConfigError(
                key: path.isEmpty ? "(top level)" : path, line: other.mark?.line,
                problem: "must be a mapping of keys to values")
        }
    }

    func section(_ key: String) throws -> ConfigSection {
        try ConfigSection(root: mapping?[key], path: keyPath(key), problems: problems)
    }

    /// Every key of this section must be one of `known`.
    func rejectUnknownKeys(_ known: Set<String>) {
        for (key, _) in mapping ?? [:] {
            let name = key.string ?? "\(key)"
            if !known.contains(name) {
                problems.record(
                    ConfigError(
                        key: keyPath(name), line: key.mark?.line,
                        problem: "unknown key; known keys here: \(known.sorted().joined(separator: ", "))"))
            }
        }
    }

    func string(_ key: String, default value: String) throws -> String {
        guard let node = mapping?[key] else { return value }
        guard let text = node.scalar?.string else { throw error(key, node, "must be a text value") }
        return text
    }

    /// One of an enumeration's values, by its name.
    func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, default value: Choice) throws -> Choice
    where Choice.RawValue == String {
        let name = try string(key, default: value.rawValue)
        guard let choice = Choice(rawValue: name) else {
            let choices = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(key, mapping?[key], "must be one of \(choices), not '\(name)'")
        }
        return choice
    }

    func double(_ key: String, default value: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let node = mapping?[key] else { return value }
        guard let number = node.number else {
            throw error(key, node, "must be a number, got '\(node.scalar?.string ?? "a collection")'")
        }
        guard range.contains(number) else {
            throw error(key, node, "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    func int(_ key: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let node = mapping?[key] else { return value }
        guard let number = node.int else {
            throw error(key, node, "must be a whole number, got '\(node.scalar?.string ?? "a collection")'")
        }
        guard range.contains(number) else {
            throw error(key, node, "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let node = mapping?[key] else { return value }
        guard let flag = node.bool else { throw error(key, node, "must be true or false") }
        return flag
    }

    /// A sequence of exactly `count` numbers, such as `[0.01, -0.02]`.
    func doubles(_ key: String, count: Int, default value: [Double]) throws -> [Double] {
        guard let node = mapping?[key] else { return value }
        let numbers = node.sequence?.compactMap(\.number)
        guard let numbers, numbers.count == count, node.sequence?.count == count else {
            throw error(key, node, "must be a list of \(count) numbers")
        }
        return numbers
    }

    /// A sequence of words, such as `[occlusion, rejection]`.
    func strings(_ key: String, default value: [String]) throws -> [String] {
        guard let node = mapping?[key] else { return value }
        let words = node.sequence?.compactMap { $0.scalar?.string }
        guard let words, words.count == node.sequence?.count else { throw error(key, node, "must be a list of names") }
        return words
    }

    /// One value or a non-empty list of values, such as `tele` or `[tele, 1.5, 4]`, as nodes for
    /// the caller to read (and to name the line of a bad one); nil when the key is absent.
    func oneOrMore(_ key: String) throws -> [Node]? {
        guard let node = mapping?[key] else { return nil }
        guard let sequence = node.sequence else { return [node] }
        guard !sequence.isEmpty else { throw error(key, node, "must not be an empty list") }
        return Array(sequence)
    }

    func has(_ key: String) -> Bool { mapping?[key] != nil }

    func error(_ key: String, _ node: Node?, _ problem: String) -> ConfigError {
        ConfigError(key: keyPath(key), line: node?.mark?.line ?? line, problem: problem)
    }

    private func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

extension Node {
    /// A YAML number, whole or not.
    var number: Double? { float ?? int.map(Double.init) }
}
