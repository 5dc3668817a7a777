import Foundation
import HybridZoom
import Yams

/// Which camera of the rig a frame comes from.
public enum Role: String, Sendable, Codable, CaseIterable {
    case wide = "W"
    case tele = "T"

    public var other: Role { self == .wide ? .tele : .wide }
}

/// Everything `Config/hzsrd.yaml` can say, validated. Relative paths are resolved against the
/// directory given to `load` (the daemon's working directory), so one file serves both
/// `make run` in the project folder and a systemd unit with `WorkingDirectory=`.
public struct DaemonConfig: Sendable {
    public struct Paths: Sendable, Equatable {
        public var spool, work, archive, quarantine, orphans, output: String
    }

    public struct Roles: Sendable {
        public var folders: [Role: String]
        public var patterns: [Role: NamePattern]
    }

    public struct Timestamps: Sendable {
        public var fileNamePattern: NamePattern?
        public var timeZone: TimeZone
        public var clockOffset: [Role: Double]
    }

    public struct Pairing: Sendable, Equatable {
        public var tolerance: Double
        public var orphanTimeout: Double
    }

    public struct Intake: Sendable, Equatable {
        public var settleTime: Double
        public var maxPixels: Int
        public var extensions: Set<String>
        public var corruptFrames: CorruptFrames
        /// A pair in hand when the daemon died this many times (killed, crashed, out of memory)
        /// is quarantined at the next start instead of being tried again first, forever.
        public var maxCrashesPerPair: Int
        /// Bytes a pair may take to process, by `MemoryEstimate`: larger pairs are quarantined
        /// before decoding instead of being killed by the kernel halfway.
        public var memoryBudget: Int
        /// Bytes that must stay free on the state and output disks before a pair is claimed.
        public var minFreeSpace: Int

        /// The largest file a frame of `maxPixels` can be: 8 bytes a pixel (a JPEG of noise at
        /// quality 100 without subsampling takes 4) and 64 MiB of metadata (previews, maker
        /// notes). Larger files are refused before they are read: a sparse file of gigabytes
        /// would otherwise take more memory than the daemon may have, at every start.
        public var maxFileBytes: Int { 8 * maxPixels + (64 << 20) }
    }

    /// What becomes of a frame whose scan data is corrupt or cut short, which the decoder fills in
    /// with a guess (often grey or smeared blocks).
    public enum CorruptFrames: String, Sendable, CaseIterable {
        /// The pair is quarantined with the decoder's warnings as the reason.
        case quarantine
        /// The frame is used as decoded; its warnings go to the sidecar and the journal.
        case use
    }

    public enum OutputZoom: Sendable, Equatable {
        case tele, ratio(Double)

        /// The zoom relative to W's full view: `tele` is T's field of view.
        public func value(for rig: RigCalibration) -> Double {
            switch self {
            case .tele: rig.zoomRatio
            case .ratio(let ratio): ratio
            }
        }
    }

    public enum OutputSize: Sendable, Equatable { case tele, fixed(Size) }

    public struct Output: Sendable, Equatable {
        /// One image per zoom, all from one fusion; the first is the primary image.
        public var zooms: [OutputZoom]
        public var size: OutputSize
        public var jpegQuality: Int
        public var latestLink: Bool
        /// Publish each aligned capture's maps as JPEGs in `<pair>.maps/`.
        public var maps: Bool
    }

    public var paths: Paths
    public var roles: Roles
    public var timestamps: Timestamps
    public var pairing: Pairing
    public var intake: Intake
    public var rig: RigCalibration
    public var output: Output
    public var fusion: FusionSettings
    public var gate: GateSettings
    /// Steps 3–6: `gate.max_rotation` sets how far T may be turned before alignment fails.
    public var alignment: AlignmentSettings
    public var blend: BlendConfig
    public var keepInputs: Bool
    /// Where the Prometheus text file goes (`DaemonMetrics`); nil: no metrics.
    public var metricsTextfile: String?

    /// Reads and validates a config file. It throws `ConfigProblems`, naming every problem's key.
    public static func load(from file: String, relativeTo directory: String) throws -> DaemonConfig {
        try parse(read(file), relativeTo: directory)
    }

    public static func parse(_ yaml: String, relativeTo directory: String) throws -> DaemonConfig {
        let reading = Reading(yaml, relativeTo: directory)
        guard let config = reading.config else { throw ConfigProblems(reading.problems.errors) }
        return config
    }

    /// Everything wrong with a config file, as a start would find it, the model included (which
    /// `load` leaves to `FusionStage`): empty when it is fine.
    public static func problems(in file: String, relativeTo directory: String) -> [ConfigError] {
        let yaml: String
        do { yaml = try read(file) } catch { return [error] }
        let reading = Reading(yaml, relativeTo: directory)
        if let fusion = reading.fusion { _ = reading.problems.collect { try FusionStage(fusion) } }
        return ConfigProblems(reading.problems.errors).errors
    }

    private static func read(_ file: String) throws(ConfigError) -> String {
        do { return try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConfigError(key: file, line: nil, problem: "cannot read: \(error.localizedDescription)")
        }
    }

    /// One pass over a config's sections. A section with a problem is nil and the others are
    /// read on, so that one pass finds every section's problem.
    private struct Reading {
        let problems = ConfigProblemList()
        private(set) var config: DaemonConfig?
        private(set) var fusion: FusionSettings?

        init(_ yaml: String, relativeTo directory: String) {
            let problems = problems
            let root: Node?? = problems.collect {
                do { return try Yams.compose(yaml: yaml) } catch {
                    throw ConfigError(key: "(file)", line: nil, problem: "not valid YAML: \(error)")
                }
            }
            guard let root, let top = problems.collect({ try ConfigSection(root: root, problems: problems) }) else { return }
            top.rejectUnknownKeys([
                "paths", "roles", "timestamps", "pairing", "intake", "rig", "output", "fusion", "gate", "blend", "archive", "metrics",
            ])
            func section<Value>(_ key: String, _ read: (ConfigSection) throws -> Value) -> Value? {
                problems.collect { try read(top.section(key)) }
            }
            let rig = section("rig", readRig)
            let paths = section("paths") { try readPaths($0, relativeTo: directory) }
            let roles = section("roles", readRoles)
            let timestamps = section("timestamps", readTimestamps)
            let pairing = section("pairing", readPairing)
            let intake = section("intake", readIntake)
            // Zooms are checked against the rig's ratio; with the rig in error, against the default.
            let output = section("output") { try readOutput($0, rig: rig ?? RigCalibration(zoomRatio: 2)) }
            fusion = section("fusion") { try readFusion($0, relativeTo: directory) }
            let gate = section("gate", readGate)
            let alignment = section("gate", readAlignment)
            let blend = section("blend", readBlend)
            let keepInputs = section("archive", readArchive)
            let metricsTextfile = section("metrics") { try readMetrics($0, relativeTo: directory, paths: paths) }
            if let output, let intake { _ = section("output") { try checkOutputsFit(output, intake, $0) } }
            guard problems.errors.isEmpty, let paths, let roles, let timestamps, let pairing, let intake, let rig,
                let output, let fusion, let gate, let alignment, let blend, let keepInputs, let metricsTextfile
            else { return }
            config = DaemonConfig(
                paths: paths, roles: roles, timestamps: timestamps, pairing: pairing, intake: intake, rig: rig,
                output: output, fusion: fusion, gate: gate, alignment: alignment, blend: blend, keepInputs: keepInputs,
                metricsTextfile: metricsTextfile)
        }
    }

    private static func readPaths(_ section: ConfigSection, relativeTo directory: String) throws -> Paths {
        let names = ["spool", "work", "archive", "quarantine", "orphans", "output"]
        section.rejectUnknownKeys(Set(names))
        let base = URL(fileURLWithPath: directory, isDirectory: true)
        func path(_ key: String, _ fallback: String) throws -> String {
            let value = try section.string(key, default: fallback)
            guard !value.isEmpty else { throw section.error(key, nil, "must not be empty") }
            return URL(fileURLWithPath: value, relativeTo: base).standardizedFileURL.path
        }
        let paths = Paths(
            spool: try path("spool", "spool"), work: try path("work", "work"),
            archive: try path("archive", "archive"), quarantine: try path("quarantine", "quarantine"),
            orphans: try path("orphans", "orphans"), output: try path("output", "out"))
        let all = [paths.spool, paths.work, paths.archive, paths.quarantine, paths.orphans, paths.output]
        for (index, name) in names.enumerated() where all.filter({ $0 == all[index] }).count > 1 {
            throw section.error(name, nil, "must be a folder of its own, not shared with another paths key")
        }
        // The daemon takes in whatever lands in the spool and resumes whatever is in work/ as a
        // claimed pair, so another folder inside either would be taken for frames or claims.
        for (index, name) in names.enumerated() {
            if let (_, outer) = zip(all, names).prefix(2).first(where: { isInside(all[index], $0.0) }) {
                throw section.error(name, nil, "must not lie inside paths.\(outer), or the daemon would take what it holds for its own")
            }
        }
        return paths
    }

    private static func readRoles(_ section: ConfigSection) throws -> Roles {
        section.rejectUnknownKeys(["wide", "tele"])
        var roles = Roles(folders: [:], patterns: [:])
        for role in Role.allCases {
            let key = role == .wide ? "wide" : "tele"
            let rule = try section.section(key)
            rule.rejectUnknownKeys(["folder", "pattern"])
            let folder = try rule.string("folder", default: role.rawValue)
            if !folder.isEmpty {
                guard !folder.contains("/") else { throw rule.error("folder", nil, "must be one folder name, without '/'") }
                roles.folders[role] = folder
            }
            let pattern = try rule.string("pattern", default: role == .wide ? "(?i)_W\\.jpe?g$" : "(?i)_T\\.jpe?g$")
            if !pattern.isEmpty { roles.patterns[role] = try regex(pattern, rule, "pattern") }
            guard roles.folders[role] != nil || roles.patterns[role] != nil else {
                throw section.error(key, nil, "needs a folder or a pattern, or no frame is ever recognised as \(role.rawValue)")
            }
        }
        guard roles.folders[.wide] != roles.folders[.tele] || roles.folders[.wide] == nil else {
            throw section.error("tele.folder", nil, "must differ from wide.folder")
        }
        return roles
    }

    private static func readTimestamps(_ section: ConfigSection) throws -> Timestamps {
        section.rejectUnknownKeys(["file_name_pattern", "time_zone", "clock_offset"])
        let pattern = try section.string("file_name_pattern", default: "")
        let zoneName = try section.string("time_zone", default: "UTC")
        guard let zone = TimeZone(identifier: zoneName) else {
            throw section.error("time_zone", nil, "unknown time zone '\(zoneName)' (use a name such as UTC or Europe/Berlin)")
        }
        let offsets = try section.section("clock_offset")
        offsets.rejectUnknownKeys(["wide", "tele"])
        return Timestamps(
            fileNamePattern: pattern.isEmpty ? nil : try regex(pattern, section, "file_name_pattern"),
            timeZone: zone,
            clockOffset: [
                .wide: try offsets.double("wide", default: 0, in: -86400...86400),
                .tele: try offsets.double("tele", default: 0, in: -86400...86400),
            ])
    }

    private static func readPairing(_ section: ConfigSection) throws -> Pairing {
        section.rejectUnknownKeys(["tolerance", "orphan_timeout"])
        return Pairing(
            tolerance: try section.double("tolerance", default: 0.05, in: 0...60),
            orphanTimeout: try section.double("orphan_timeout", default: 30, in: 0.1...86400))
    }

    private static func readIntake(_ section: ConfigSection) throws -> Intake {
        section.rejectUnknownKeys([
            "settle_time", "max_megapixels", "extensions", "corrupt_frames", "max_crashes_per_pair", "memory_budget_mb",
            "min_free_space_mb",
        ])
        // A leading dot (".jpg", as file dialogs write them) is the user's way of saying the same.
        let extensions = try section.string("extensions", default: "jpg jpeg")
            .lowercased().split(whereSeparator: { $0 == " " || $0 == "," })
            .map { $0.hasPrefix(".") ? String($0.dropFirst()) : String($0) }
        guard !extensions.isEmpty else { throw section.error("extensions", nil, "must name at least one extension") }
        if let odd = extensions.first(where: { $0.isEmpty || $0.contains(".") || $0.contains("/") }) {
            throw section.error("extensions", nil, "'\(odd)' is not a file extension (write them as jpg jpeg)")
        }
        // Medium-format "100 MP" sensors make 11648×8736 frames, 101.8 MP: the default takes them in.
        let megapixels = try section.double("max_megapixels", default: 110, in: 0.01...1000)
        return Intake(
            settleTime: try section.double("settle_time", default: 2, in: 0...3600),
            maxPixels: Int(megapixels * 1_000_000), extensions: Set(extensions),
            corruptFrames: try section.choice("corrupt_frames", default: CorruptFrames.quarantine),
            maxCrashesPerPair: try section.int("max_crashes_per_pair", default: 3, in: 1...100),
            memoryBudget: try section.int("memory_budget_mb", default: 5800, in: 100...1_000_000) << 20,
            minFreeSpace: try section.int("min_free_space_mb", default: 100, in: 0...100_000_000) << 20)
    }

    private static func readRig(_ section: ConfigSection) throws -> RigCalibration {
        section.rejectUnknownKeys(["zoom_ratio", "center_offset", "rotation"])
        let offset = try section.doubles("center_offset", count: 2, default: [0, 0])
        guard offset.allSatisfy({ abs($0) < 0.5 }) else {
            throw section.error("center_offset", nil, "each value must lie between -0.5 and 0.5 (fractions of W's size)")
        }
        let zoomRatio = try section.double("zoom_ratio", default: 2, in: 1.01...20)
        // T sees 1/r of W's width: centred further out, its view would cross W's edge, where W
        // has nothing to show (across only: how tall the view is depends on T's frame shape).
        let reach = (1 - 1 / zoomRatio) / 2
        guard abs(offset[0]) <= reach + Self.offsetSlack else {
            throw section.error(
                "center_offset", nil,
                String(
                    format: "puts T's view past W's edge: at zoom_ratio %g, T sees 1/%g of W's width, so x must lie within ±%.4f", zoomRatio,
                    zoomRatio, reach))
        }
        return RigCalibration(
            zoomRatio: zoomRatio,
            centerOffset: (offset[0], offset[1]),
            rotation: try section.double("rotation", default: 0, in: -15...15))
    }

    /// How far past W's edge T's calibrated view may reach (a fraction of W's width): the crop
    /// is slid back inside W, which a measured offset at the edge (`hzsr calibrate` prints 4
    /// decimals) needs.
    static let offsetSlack = 0.01

    /// Images of a fixed size, one per zoom, that alone take more than the memory budget would
    /// get every pair refused (or, were it not checked, the daemon killed).
    private static func checkOutputsFit(_ output: Output, _ intake: Intake, _ section: ConfigSection) throws {
        guard case .fixed(let size) = output.size else { return }
        let needed = MemoryEstimate.fixed + MemoryEstimate.bytes(outputs: output.zooms.map { _ in size })
        guard needed > intake.memoryBudget else { return }
        throw section.error(
            "size", nil,
            "\(output.zooms.count) images of \(size) would take about \(needed >> 20) MB with no frames at all, above intake.memory_budget_mb (\(intake.memoryBudget >> 20))"
        )
    }

    private static func readOutput(_ section: ConfigSection, rig: RigCalibration) throws -> Output {
        section.rejectUnknownKeys(["zoom", "size", "jpeg_quality", "latest_link", "maps"])
        var size = OutputSize.tele
        if section.has("size"), (try? section.string("size", default: "tele")) != "tele" {
            let rule = "must be 'tele' or [width, height] in whole pixels from 16 to 32768"
            if let word = try? section.string("size", default: "tele") { throw section.error("size", nil, "'\(word)' \(rule)") }
            let dimensions = try section.doubles("size", count: 2, default: [])
            guard dimensions.allSatisfy({ $0 >= 16 && $0 <= 32768 && $0 == $0.rounded() }) else { throw section.error("size", nil, rule) }
            size = .fixed(Size(width: Int(dimensions[0]), height: Int(dimensions[1])))
        }
        return Output(
            zooms: try readZooms(section, rig: rig), size: size,
            jpegQuality: try section.int("jpeg_quality", default: 92, in: 1...100),
            latestLink: try section.bool("latest_link", default: true),
            maps: try section.bool("maps", default: false))
    }

    /// `output.zoom`: `tele`, a number, or a list of them. Two zooms whose image names would agree
    /// (`tele` and the number equal to `rig.zoom_ratio`, say) are the same image listed twice.
    private static func readZooms(_ section: ConfigSection, rig: RigCalibration) throws -> [OutputZoom] {
        guard let nodes = try section.oneOrMore("zoom") else { return [.tele] }
        var zooms: [OutputZoom] = []
        for node in nodes {
            let zoom: OutputZoom
            if node.scalar?.string == "tele" {
                zoom = .tele
            } else if let number = node.number, (1...20).contains(number) {
                zoom = .ratio(number)
            } else {
                throw section.error(
                    "zoom", node,
                    "each zoom must be 'tele' (rig.zoom_ratio) or a number from 1 to 20, "
                        + "got '\(node.scalar?.string ?? "a collection")'")
            }
            let label = Publisher.zoomLabel(zoom.value(for: rig))
            if let earlier = zooms.first(where: { Publisher.zoomLabel($0.value(for: rig)) == label }) {
                let tele = [earlier, zoom].contains(.tele) ? " ('tele' is rig.zoom_ratio, \(Publisher.zoomLabel(rig.zoomRatio)))" : ""
                throw section.error("zoom", node, "lists zoom \(label) twice\(tele): both would be the same image")
            }
            zooms.append(zoom)
        }
        return zooms
    }

    private static func readFusion(_ section: ConfigSection, relativeTo directory: String) throws -> FusionSettings {
        section.rejectUnknownKeys(["method", "model", "precision", "band_split_sigma"])
        let method = try section.choice("method", default: FusionSettings.Method.network)
        let file = try section.string("model", default: "")
        let model =
            file.isEmpty ? nil : URL(fileURLWithPath: file, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path
        return FusionSettings(
            method: method, model: model, precision: try section.choice("precision", default: FusionSettings.Precision.auto),
            bandSplitSigma: try section.double("band_split_sigma", default: 1.5, in: 0.1...10))
    }

    private static func readGate(_ section: ConfigSection) throws -> GateSettings {
        section.rejectUnknownKeys(["min_ev100", "min_mean_luma", "max_tele_noise_ratio", "noise_floor", "min_overlap", "max_rotation"])
        let defaults = GateSettings()
        return GateSettings(
            minimumEV100: try section.double("min_ev100", default: defaults.minimumEV100, in: -10...25),
            minimumMeanLuma: try section.double("min_mean_luma", default: defaults.minimumMeanLuma, in: 0...1),
            maximumTeleNoiseRatio: try section.double("max_tele_noise_ratio", default: defaults.maximumTeleNoiseRatio, in: 0...1000),
            noiseFloor: try section.double("noise_floor", default: defaults.noiseFloor, in: 0...1),
            minimumOverlap: try section.double("min_overlap", default: defaults.minimumOverlap, in: 0...1))
    }

    /// The gate's `max_rotation`, which alignment applies: beyond it T's turn is no rig's.
    private static func readAlignment(_ section: ConfigSection) throws -> AlignmentSettings {
        var settings = AlignmentSettings()
        settings.coarse.maximumRotation = try section.double("max_rotation", default: settings.coarse.maximumRotation, in: 1...90)
        return settings
    }

    private static func readBlend(_ section: ConfigSection) throws -> BlendConfig {
        section.rejectUnknownKeys(["maps", "smoothing_sigma", "feather_width", "autofocus_region"])
        let names = try section.strings("maps", default: BlendMaps.all.map(\.name))
        let maps = try names.map { name in
            guard let map = BlendMaps.named(name) else {
                throw section.error("maps", nil, "unknown map '\(name)'; known maps: \(BlendMaps.names.joined(separator: ", "))")
            }
            return map
        }
        var region: Rect?
        if section.has("autofocus_region"), (try? section.doubles("autofocus_region", count: 0, default: [])) == nil {
            let box = try section.doubles("autofocus_region", count: 4, default: [])
            guard box.allSatisfy({ (0...1).contains($0) }), box[2] > 0, box[3] > 0, box[0] + box[2] <= 1, box[1] + box[3] <= 1 else {
                throw section.error("autofocus_region", nil, "must be [x, y, width, height] inside [0, 1], or []")
            }
            region = Rect(x: box[0], y: box[1], width: box[2], height: box[3])
        }
        return BlendConfig(
            settings: BlendSettings(
                maps: maps,
                smoothingSigma: try section.double("smoothing_sigma", default: BlendTuning.smoothingSigma, in: 0...50),
                featherWidth: try section.double("feather_width", default: BlendTuning.featherWidth, in: 0...0.5)),
            autofocusRegion: region)
    }

    private static func readArchive(_ section: ConfigSection) throws -> Bool {
        section.rejectUnknownKeys(["keep_inputs"])
        return try section.bool("keep_inputs", default: true)
    }

    private static func readMetrics(_ section: ConfigSection, relativeTo directory: String, paths: Paths?) throws -> String? {
        section.rejectUnknownKeys(["textfile"])
        let file = try section.string("textfile", default: "")
        guard !file.isEmpty else { return nil }
        guard file.hasSuffix(".prom") else {
            throw section.error("textfile", nil, "must end in .prom, the only files node-exporter's textfile collector reads")
        }
        let path = URL(fileURLWithPath: file, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path
        for (key, folder) in [("spool", paths?.spool), ("work", paths?.work)] where folder.map({ isInside(path, $0) }) == true {
            throw section.error("textfile", nil, "must not lie inside paths.\(key), or the daemon would take it for an input")
        }
        return path
    }

    private static func regex(_ pattern: String, _ section: ConfigSection, _ key: String) throws -> NamePattern {
        do { return try NamePattern(pattern) } catch {
            throw section.error(key, nil, "not a valid regular expression: \(error)")
        }
    }
}

extension DaemonConfig {
    /// What the pipeline needs to know of this config.
    public var captureSettings: CaptureSettings {
        let size: Size? =
            switch output.size {
            case .tele: nil
            case .fixed(let size): size
            }
        return CaptureSettings(
            rig: rig, zooms: output.zooms.map { $0.value(for: rig) }, outputSize: size, gate: gate, alignment: alignment,
            blend: blend.settings, autofocusRegion: blend.autofocusRegion)
    }

    /// The pipeline as this config sets it up, fusing with `fusion` (loaded from `self.fusion`).
    public func pipeline(_ fusion: FusionStage) -> CapturePipeline {
        CapturePipeline(settings: captureSettings, fusion: fusion.fusion(zoomRatio: rig.zoomRatio))
    }
}

/// Step 8 as configured.
public struct BlendConfig: Sendable {
    public var settings: BlendSettings
    /// Where T focuses, as fractions of its frame, when its EXIF has no SubjectArea; nil: the
    /// centre.
    public var autofocusRegion: Rect?
}
