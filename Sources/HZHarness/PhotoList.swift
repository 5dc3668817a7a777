import Foundation

/// `Data/photos.tsv`: the real photographs the simulator uses as scenes, each on one side of
/// the train/eval split.
public struct PhotoList: Sendable {
    public struct Photo: Sendable, Equatable {
        public var name: String
        public var split: String
    }

    public let photos: [Photo]

    /// Reads the tab-separated list; it needs the columns `name` and `split`.
    public init(contentsOf path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let rows = text.split(whereSeparator: \.isNewline).map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        guard let header = rows.first, let name = header.firstIndex(of: "name"), let split = header.firstIndex(of: "split") else {
            throw EvaluationError("\(path): needs a header line with the columns name and split")
        }
        photos = rows.dropFirst().filter { $0.count > max(name, split) }.map { Photo(name: $0[name], split: $0[split]) }
    }

    /// The photos of one side of the split, by name.
    public func names(split: String) -> [String] {
        photos.filter { $0.split == split }.map(\.name).sorted()
    }
}
