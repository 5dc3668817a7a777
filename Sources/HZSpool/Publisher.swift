import Foundation
import HybridZoom

/// The sidecar `<pair>.json` beside each published image: everything needed to tell afterwards
/// what happened to a capture and why.
public struct PairRecord: Codable, Sendable, Equatable {
    /// One published image: its file name beside the sidecar, and what of W it shows.
    public struct Output: Codable, Sendable, Equatable {
        public var image: String
        public var size: [Int]
        public var zoom: Double
        /// `[x, y, width, height]` of the part of W the image shows, in W's pixels.
        public var wideCrop: [Double]
    }

    public var pair: String
    public var decision: CaptureDecision
    /// The decision with its particulars.
    public var reason: String
    /// The primary image (the first configured zoom), described as an `Output` is.
    public var image: String
    public var size: [Int]
    public var zoom: Double
    /// `[x, y, width, height]` of the part of W the image shows, in W's pixels.
    public var wideCrop: [Double]
    /// The images at the other configured zooms, in the config's order; empty with one zoom.
    public var otherOutputs: [Output]
    /// The map images (`output.maps`), as paths relative to the sidecar's folder:
    /// `<pair>.maps/flow.jpg`, …; empty when off or when the capture was not aligned.
    public var maps: [String]
    public var inputs: [InputRecord]
    /// T's timestamp minus W's, in milliseconds.
    public var timeDifferenceMs: Double
    /// What the gate measured: EV100, mean luma and noise of both frames.
    public var gate: GateMeasurements
    /// Mean blend weight over T's view: how much of it took T's detail.
    public var coverage: Double
    /// Absent when the gate skipped fusion before aligning.
    public var alignment: AlignmentSummary?
    public var timingsMs: StageTimings
    /// What the decoder noticed in an input without refusing it, as `<input>: <message>`;
    /// absent when nothing (and in sidecars written before it was recorded).
    public var warnings: [String]?
    /// From the moment the pair was complete in the spool to the moment its image was published.
    public var latencyMs: Double
    public var publishedAt: Date
}

/// Writes `out/<day>/<pair>.jpg` (with `<pair>@<zoom>x.jpg` for each other zoom, and the maps in
/// `<pair>.maps/` when asked for) and `<pair>.json`, each under a temporary name renamed into
/// place, images first: the sidecar is the commit point, so a pair whose sidecar exists is done.
public struct Publisher: Sendable {
    public let root: String
    public let latestLink: Bool

    public init(root: String, latestLink: Bool) {
        self.root = root
        self.latestLink = latestLink
    }

    public func recordPath(id: String, day: String) -> String { "\(root)/\(day)/\(id).json" }

    public func isPublished(id: String, day: String) -> Bool {
        FileManager.default.fileExists(atPath: recordPath(id: id, day: day))
    }

    /// One file a sidecar names, by its path relative to the sidecar's folder.
    public struct File: Sendable {
        public var path: String
        public var bytes: [UInt8]
    }

    /// Writes `files` (the images and maps `record` names), then the sidecar. If any write fails,
    /// the files written so far are removed (they are not published without their sidecar, and
    /// a full disk needs the space back), and the error is thrown for a later retry.
    public func publish(_ files: [File], record: PairRecord, day: String) throws {
        var written: [String] = []
        do {
            for file in files {
                let path = "\(root)/\(day)/\(file.path)"
                try createFolderDurably((path as NSString).deletingLastPathComponent)
                try writeAtomically(Data(file.bytes), to: path)
                written.append(path)
            }
            try writeAtomically(try JSONCoding.encoder.encode(record), to: recordPath(id: record.pair, day: day))
        } catch {
            for path in written { unlink(path) }
            throw error
        }
        if latestLink { try pointLatest(at: "\(day)/\(record.image)") }
    }

    /// The file names of one capture's images, one per zoom: the first (primary) is `primary`
    /// itself, each other adds `@<zoom>x` before the extension: `out.jpg`, `out@1.5x.jpg`, `out@4x.jpg`.
    public static func imageNames(primary: String, zooms: [Double]) -> [String] {
        let name = primary as NSString
        let suffix = name.pathExtension.isEmpty ? "" : ".\(name.pathExtension)"
        return [primary] + zooms.dropFirst().map { "\(name.deletingPathExtension)@\(zoomLabel($0))x\(suffix)" }
    }

    /// The folder of a pair's map images, beside its sidecar.
    public static func mapsFolder(pair id: String) -> String { "\(id).maps" }

    /// A zoom as image names write it, compactly: `1.5`, `4`, `2.25` (six significant digits).
    static func zoomLabel(_ zoom: Double) -> String { String(format: "%g", zoom) }

    public static func readRecord(at path: String) throws -> PairRecord {
        try JSONCoding.decoder.decode(PairRecord.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// `out/latest.jpg`, a relative symlink swapped atomically so a viewer never sees it missing.
    private func pointLatest(at target: String) throws {
        let link = "\(root)/latest.jpg", staging = "\(root)/.latest.jpg.tmp"
        unlink(staging)
        guard symlink(target, staging) == 0 else {
            throw SpoolError("cannot create \(staging): \(String(cString: strerror(errno)))")
        }
        try rename(staging, to: link)
    }
}
