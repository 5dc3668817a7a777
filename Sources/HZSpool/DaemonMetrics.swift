import Foundation
import HybridZoom
import Prometheus
import Synchronization

/// What hzsrd counts, as a Prometheus text file for node-exporter's textfile collector: the daemon
/// listens on no socket (its unit has no network at all), node-exporter serves the file.
///
/// Counters survive restarts: they start from the values in the file the previous run left. The
/// histograms start empty with each run, which Prometheus reads as a counter reset.
public final class DaemonMetrics: Sendable {
    /// Where a run's live state stands when the file is written.
    public struct Live: Sendable, Equatable {
        /// Pairs claimed and waiting for the worker.
        public var queued = 0
        /// Pairs the worker is processing (0 or 1).
        public var inFlight = 0
        /// Frames waiting for their partner, and how long the oldest has waited (seconds).
        public var waitingFrames = 0
        public var oldestWaitingAge: Double = 0

        public init() {}
    }

    public let file: String
    private let registry = PrometheusCollectorRegistry()
    private let live: [String: Gauge]
    private let latency: ValueHistogram
    /// The worker writes after each pair and a timer every 15 s: one at a time, as both use one
    /// temporary name.
    private let writing = Mutex(())
    private let version: String
    /// `hzsr_build_info`'s one series: the model it names changes with a reload.
    private let buildInfo: Mutex<(gauge: Gauge, model: String)?> = Mutex(nil)

    /// Metrics written to `file`, continuing the counters found there.
    public init(file: String, version: String, model: String) {
        self.file = file
        self.version = version
        latency = registry.makeValueHistogram(
            descriptor: Self.named("hzsr_pair_latency_seconds", "From a pair's second frame arriving to its image published."),
            buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128])
        let registry = registry
        live = Dictionary(
            uniqueKeysWithValues: Self.liveGauges.map { ($0.name, registry.makeGauge(descriptor: Self.named($0.name, $0.help))) })
        useModel(model)
        for series in (try? String(contentsOfFile: file, encoding: .utf8)).map(Self.savedSeries) ?? [] {
            restore(series)
        }
        // Every series from the start, at 0: an alert on `increase()` then sees the first event.
        for decision in CaptureDecision.all { _ = counter(.pairs, Self.labels(decision)) }
        for kind in SetAsideKind.allCases { _ = counter(kind == .noPartner ? .orphaned : .quarantined, [("reason", kind.rawValue)]) }
        _ = counter(.errors, [])
    }

    /// The fusion model now in use (its digest): a reload may load another.
    /// A reload that keeps the model changes nothing (the series is never missing from a write).
    public func useModel(_ model: String) {
        buildInfo.withLock { current in
            guard current?.model != model else { return }
            if let current { registry.unregisterGauge(current.gauge) }
            let gauge = registry.makeGauge(
                descriptor: Self.named("hzsr_build_info", "Always 1: the daemon's version and fusion model."),
                labels: [("version", version), ("model", model)])
            gauge.set(to: 1)
            current = (gauge, model)
        }
    }

    /// A published pair: its decision, latency, stage times, blend coverage and exposure.
    public func published(_ record: PairRecord) {
        counter(.pairs, Self.labels(record.decision)).increment()
        gauge("hzsr_last_published_timestamp_seconds", help: Self.lastPublishedHelp).set(record.publishedAt.timeIntervalSince1970)
        latency.record(record.latencyMs / 1000)
        for stage in Stage.allCases where record.timingsMs.ran(stage) {
            registry.makeValueHistogram(
                descriptor: Self.named("hzsr_stage_seconds", "Time a pipeline stage took for one pair."), labels: [("stage", stage.rawValue)],
                buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
            ).record(record.timingsMs[stage] / 1000)
        }
        if record.decision == .fused {
            gauge("hzsr_blend_coverage", help: "Share of T's view where the last fused pair took T's detail (M_blend's mean).")
                .set(record.coverage)
        }
        for (camera, ev100) in [("W", record.gate.ev100Wide), ("T", record.gate.ev100Tele)] {
            guard let ev100 else { continue }
            registry.makeGauge(
                descriptor: Self.named("hzsr_last_ev100", "Exposure value (ISO 100) of the last pair's frames, from EXIF."),
                labels: [("camera", camera)]
            )
            .set(ev100)
        }
    }

    /// A file or pair set aside: in quarantine, or in orphans (`noPartner`).
    public func setAside(_ kind: SetAsideKind) {
        counter(kind == .noPartner ? .orphaned : .quarantined, [("reason", kind.rawValue)]).increment()
    }

    /// A failure that left its input in place, to be tried again.
    public func failed() { counter(.errors, []).increment() }

    /// Writes the file (temp file and rename, so node-exporter never reads half of it).
    public func write(_ state: Live) throws {
        let values: [String: Double] = [
            "hzsr_queue_depth": Double(state.queued), "hzsr_pairs_in_flight": Double(state.inFlight),
            "hzsr_frames_waiting": Double(state.waitingFrames), "hzsr_oldest_waiting_frame_age_seconds": state.oldestWaitingAge,
        ]
        for (name, value) in values { live[name]?.set(value) }
        // Readable by all, whatever the daemon's umask (the units' 0007): node-exporter runs as
        // a user of its own.
        try writing.withLock { _ in try writeAtomically(Data(registry.emitToBuffer()), to: file, mode: 0o644) }
    }

    // MARK: - Families

    private enum Counted: String, CaseIterable {
        case pairs = "hzsr_pairs_total"
        case quarantined = "hzsr_files_quarantined_total"
        case orphaned = "hzsr_files_orphaned_total"
        case errors = "hzsr_errors_total"

        /// The labels each series of the family has, in the order the daemon writes them.
        var labelNames: [String] {
            switch self {
            case .pairs: ["decision", "reason"]
            case .quarantined, .orphaned: ["reason"]
            case .errors: []
            }
        }

        var help: String {
            switch self {
            case .pairs: "Pairs published, by decision and, when skipped, the reason."
            case .quarantined: "Files and pairs set aside in quarantine, by reason."
            case .orphaned: "Frames set aside in orphans (no partner in time)."
            case .errors: "Failures that left the input in place to be tried again (a full disk, an I/O error)."
            }
        }
    }

    private static let liveGauges: [(name: String, help: String)] = [
        ("hzsr_queue_depth", "Pairs claimed and waiting for the worker."),
        ("hzsr_pairs_in_flight", "Pairs being processed."),
        ("hzsr_frames_waiting", "Frames in the spool waiting for their partner."),
        ("hzsr_oldest_waiting_frame_age_seconds", "How long the oldest frame waiting for its partner has waited."),
    ]

    private static let lastPublishedHelp = "When the last pair was published (Unix time)."

    /// Our names are whole already, `hzsr_…` with the unit at the end.
    private static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    private static func labels(_ decision: CaptureDecision) -> [(String, String)] {
        switch decision {
        // An empty reason is no label to Prometheus; node-exporter drops a family's series whose
        // label names differ from the others'.
        case .fused: [("decision", "fused"), ("reason", "")]
        case .skipped(let reason): [("decision", "skipped"), ("reason", reason.rawValue)]
        }
    }

    private func counter(_ family: Counted, _ labels: [(String, String)]) -> Counter {
        registry.makeCounter(descriptor: Self.named(family.rawValue, family.help), labels: labels)
    }

    private func gauge(_ name: String, help: String) -> Gauge { registry.makeGauge(descriptor: Self.named(name, help)) }

    // MARK: - Restoring

    /// One sample line of a saved file: `name{label="value",…} number`.
    struct SavedSeries: Equatable {
        var name: String
        var labels: [(String, String)]
        var value: Double

        static func == (a: SavedSeries, b: SavedSeries) -> Bool {
            a.name == b.name && a.value == b.value && a.labels.elementsEqual(b.labels, by: ==)
        }
    }

    /// The samples of a previous run's file worth keeping: counters and the last publication,
    /// each with the labels the daemon gives it (the metrics library traps on a family whose
    /// series differ in their label names).
    static func savedSeries(_ text: String) -> [SavedSeries] {
        let kept = Dictionary(
            uniqueKeysWithValues: Counted.allCases.map { ($0.rawValue, $0.labelNames) } + [("hzsr_last_published_timestamp_seconds", [])])
        return text.split(separator: "\n").compactMap { line -> SavedSeries? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                return nil
            }
            let series = line[..<space]
            let name = String(series.prefix { $0 != "{" })
            guard let labelNames = kept[name], value.isFinite, value >= 0 else { return nil }
            let body = series.dropFirst(name.count)
            guard body.isEmpty || (body.hasPrefix("{") && body.hasSuffix("}")) else { return nil }
            guard let labels = labels(body.dropFirst().dropLast()), labels.map(\.0) == labelNames else { return nil }
            return SavedSeries(name: name, labels: labels, value: value)
        }
    }

    /// `a="x",b="y"`; values are the daemon's own words, so an escape or a stray quote means the
    /// line is not one it wrote.
    private static func labels(_ text: Substring) -> [(String, String)]? {
        guard !text.isEmpty else { return [] }
        var labels: [(String, String)] = []
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[1].count >= 2, parts[1].hasPrefix("\""), parts[1].hasSuffix("\"") else { return nil }
            let value = parts[1].dropFirst().dropLast()
            guard !value.contains("\""), !value.contains("\\") else { return nil }
            labels.append((String(parts[0]), String(value)))
        }
        return labels
    }

    private func restore(_ series: SavedSeries) {
        if let family = Counted(rawValue: series.name) {
            let counter = counter(family, series.labels)
            // Whole counts stay whole (`2`, not `2.0`).
            if series.value < 0x1p53, series.value == series.value.rounded() {
                counter.increment(by: Int64(series.value))
            } else {
                counter.increment(by: series.value)
            }
        } else {
            gauge(series.name, help: Self.lastPublishedHelp).set(series.value)
        }
    }
}
