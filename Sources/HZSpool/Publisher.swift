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
    /// What made the image; absent in sidecars written before it was recorded.
    public var madeWith: MadeWith?
}

/// Which program, model and config made an image: what `hzsr reprocess` compares to tell a pair
/// that needs making again from one that is done.
public struct MadeWith: Codable, Sendable, Equatable {
    public var version: String
    /// The network's digest (`FusionNetwork.digest`), or the fusion method without one.
    public var model: String
    /// `stableHash` of the config file's bytes, in 16 hex digits; `defaults` without a file.
    public var config: String

    public init(fusion: FusionStage, configFile: String?) throws {
        version = hzsrVersion
        model = fusion.network?.network.digest ?? fusion.settings.method.rawValue
        config =
            try configFile.map { file in
                guard let bytes = FileManager.default.contents(atPath: file) else {
                    throw ConfigError(key: file, line: nil, problem: "cannot read")
                }
                return String(format: "%016llx", stableHash(bytes))
            } ?? "defaults"
    }
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

    /// Points `latest.jpg` at a pair published before the daemon stopped between its sidecar and
    /// the link: the pair in hand is always the newest. Best effort, as after any publication.
    public func pointLatest(id: String, day: String) {
        guard latestLink, let record = try? Self.readRecord(at: recordPath(id: id, day: day)) else { return }
        try? pointLatest(at: "\(day)/\(record.image)")
    }

    /// One file a sidecar names, by its path relative to the sidecar's folder.
    public struct File: Sendable {
        public var path: String
        public var bytes: [UInt8]
    }

    /// Writes `files` (the images and maps `record` names), then the sidecar. If any write fails
    /// before the sidecar is in place, the files written so far are removed (they are not
    /// published without their sidecar, and a full disk needs the space back), and the error is
    /// thrown for a later retry. Once the sidecar is in place the pair is published: what fails
    /// after that (flushing its folder, `latest.jpg` on a file system without links) is returned,
    /// not thrown, and takes nothing back.
    public func publish(_ files: [File], record: PairRecord, day: String) throws -> [String] {
        var written: [String] = []
        let sidecar = recordPath(id: record.pair, day: day), recordBytes = try JSONCoding.encoder.encode(record)
        do {
            for file in files {
                let path = "\(root)/\(day)/\(file.path)"
                try createFolderDurably((path as NSString).deletingLastPathComponent)
                try writeAtomically(Data(file.bytes), to: path)
                written.append(path)
            }
            try writeAtomically(recordBytes, to: sidecar)
        } catch {
            // Published once this record is in place (a flush after its rename failed); the
            // sidecar of an earlier run (`hzsr reprocess` writes over one) is not this one.
            guard FileManager.default.contents(atPath: sidecar) == recordBytes else {
                for path in written { unlink(path) }
                throw error
            }
            return ["\(error)"]
        }
        do {
            if latestLink { try pointLatest(at: "\(day)/\(record.image)") }
        } catch {
            return ["\(error)"]
        }
        return []
    }

    /// The sidecar of a processed capture, and each file it names with its bytes: images and
    /// maps get their names here, once, beside the bytes they name.
    public static func publication(
        _ manifest: ClaimManifest, inputs: [InputRecord], _ processed: EncodedCapture, latencyMs: Double, madeWith: MadeWith
    ) -> (PairRecord, [File]) {
        let difference = (manifest.input(.tele)?.timestamp.timeIntervalSince(manifest.input(.wide)?.timestamp ?? .now) ?? 0) * 1000
        let names = imageNames(primary: "\(manifest.id).jpg", zooms: processed.outputs.map(\.zoom))
        let images = zip(names, processed.outputs).map { name, output in
            (
                PairRecord.Output(
                    image: name, size: [output.size.width, output.size.height], zoom: output.zoom,
                    wideCrop: [output.crop.x, output.crop.y, output.crop.width, output.crop.height]),
                File(path: name, bytes: output.jpeg)
            )
        }
        let maps = processed.maps.map { File(path: "\(mapsFolder(pair: manifest.id))/\($0.file)", bytes: $0.jpeg) }
        let outputs = images.map(\.0), primary = outputs[0]
        let record = PairRecord(
            pair: manifest.id, decision: processed.decision, reason: processed.reason,
            image: primary.image, size: primary.size, zoom: primary.zoom, wideCrop: primary.wideCrop,
            otherOutputs: Array(outputs.dropFirst()),
            maps: maps.map(\.path), inputs: inputs,
            timeDifferenceMs: difference, gate: processed.gate, coverage: processed.coverage,
            alignment: processed.alignment, timingsMs: processed.timings,
            warnings: processed.warnings.isEmpty
                ? nil
                : processed.warnings.map { warning in
                    "\(manifest.input(warning.role)?.name ?? warning.role.rawValue): \(warning.message)"
                },
            latencyMs: latencyMs, publishedAt: .now, madeWith: madeWith)
        return (record, images.map(\.1) + maps)
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
