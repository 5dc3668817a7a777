import Foundation
import HybridZoom

/// A file in the safetensors format (https://github.com/huggingface/safetensors), which the
/// training side writes: an 8-byte little-endian header length, a JSON header mapping each tensor
/// name to `{dtype, shape, data_offsets}` (offsets into the data that follows; a `__metadata__`
/// entry holds free-form strings), then the tensors' raw little-endian bytes.
///
/// Read by hand: no Swift package in the local mirror reads the format, and reading it is short.
/// Only F32 tensors are read, since that is all the network has.
public struct SafeTensors: Sendable {
    /// The file's name, for errors.
    public let name: String
    /// The header's `__metadata__` strings.
    public let metadata: [String: String]
    /// `stableHash` of the whole file: which weights these are, in sixteen hex digits.
    public let digest: String
    private let entries: [String: Entry]
    private let data: [UInt8]

    private struct Entry {
        var dtype: String
        var shape: [Int]
        var bytes: Range<Int>
    }

    /// Reads the file at `path`; errors name the file by its last path component.
    public init(contentsOf path: String) throws(SafeTensorsError) {
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw SafeTensorsError(
                file: name,
                problem: FileManager.default.fileExists(atPath: path)
                    ? "cannot read \(path)" : "no such file: \(path)")
        }
        try self.init(bytes: [UInt8](contents), name: name)
    }

    /// Parses `bytes`, checking that every tensor's byte range lies inside the data.
    public init(bytes: [UInt8], name: String) throws(SafeTensorsError) {
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(file: name, problem: problem) }
        guard bytes.count >= 8 else {
            throw fail("truncated: \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        let headerLength = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw fail("truncated: the header claims \(headerLength) bytes, the file has \(bytes.count - 8) after the length")
        }
        let dataStart = 8 + Int(headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])),
            let header = json as? [String: Any]
        else {
            throw fail("the header is not a JSON object")
        }
        digest = String(format: "%016llx", stableHash(bytes))
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in header {
            if key == "__metadata__" {
                guard let strings = value as? [String: String] else { throw fail("__metadata__ is not a map of strings") }
                metadata = strings
            } else {
                entries[key] = try Self.entry(key, value, dataCount: bytes.count - dataStart, fail: fail)
            }
        }
        self.name = name
        self.metadata = metadata
        self.entries = entries
        self.data = Array(bytes[dataStart...])
    }

    private static func entry(
        _ key: String, _ value: Any, dataCount: Int,
        fail: (String) -> SafeTensorsError
    ) throws(SafeTensorsError) -> Entry {
        guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
            let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int],
            offsets.count == 2
        else {
            throw fail("\(key) lacks a dtype, a shape or two data_offsets")
        }
        guard shape.allSatisfy({ $0 >= 0 }), 0 <= offsets[0], offsets[0] <= offsets[1] else {
            throw fail("\(key) has a negative size or inverted offsets \(offsets)")
        }
        guard offsets[1] <= dataCount else {
            throw fail("\(key) has data_offsets \(offsets) outside the \(dataCount) bytes of data (truncated?)")
        }
        return Entry(dtype: dtype, shape: shape, bytes: offsets[0]..<offsets[1])
    }

    /// Why the data is not indexed as the format has it, each byte by exactly one tensor (an
    /// overlap would read one tensor's bytes as another's); nil when it is.
    public var dataLayoutProblem: String? {
        var next = 0
        for (key, entry) in entries.sorted(by: { ($0.value.bytes.lowerBound, $0.key) < ($1.value.bytes.lowerBound, $1.key) }) {
            guard entry.bytes.lowerBound == next else {
                return "\(key)'s data starts at byte \(entry.bytes.lowerBound), where \(next) was expected (tensors overlap or leave a gap)"
            }
            next = entry.bytes.upperBound
        }
        return next == data.count ? nil : "has \(data.count - next) bytes of data that no tensor holds"
    }

    /// The names of all tensors, sorted.
    public var tensorNames: [String] { entries.keys.sorted() }

    /// Tensor `key` as row-major floats, which must be F32 of exactly `shape`.
    public func floats(_ key: String, shape: [Int]) throws(SafeTensorsError) -> [Float] {
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(file: name, problem: "\(key) \(problem)") }
        guard let entry = entries[key] else { throw fail("is missing") }
        guard entry.dtype == "F32" else { throw fail("has dtype \(entry.dtype), expected F32") }
        guard entry.shape == shape else { throw fail("has shape \(entry.shape), expected \(shape)") }
        let count = shape.reduce(1, *)
        guard entry.bytes.count == 4 * count else {
            throw fail("has \(entry.bytes.count) bytes of data, \(4 * count) expected for shape \(shape)")
        }
        let values = data[entry.bytes].withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        // A trained network's weights are small: a NaN, an infinity or a value past this is a
        // damaged file, whose every output would be wrong.
        if let index = values.firstIndex(where: { !(abs($0) <= Self.largestWeight) }) {
            throw fail("holds \(values[index]) at index \(index), where every value must be finite and within ±\(Self.largestWeight)")
        }
        return values
    }

    static let largestWeight: Float = 1e6
}

/// A safetensors file that cannot be used, naming the file and what is wrong with it.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var problem: String

    public var description: String { "\(file): \(problem)" }
}
