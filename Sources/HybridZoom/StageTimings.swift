import Foundation

/// The stages a capture is timed in, as timings, the sidecar, the journal and `hzsr bench` name
/// them. Decoding, encoding and drawing the maps happen around the pipeline, but count as its stages.
public enum Stage: String, Sendable, CaseIterable, Codable {
    case decode, source, gate, align, zoom, fuse, blend, encode, maps
}

/// Milliseconds per stage, in the order the stages ran. A stage's parts (alignment's steps,
/// each blend map) are laps named `stage.part`, inside their stage's time.
public struct StageTimings: Sendable, Equatable, Codable {
    public struct Lap: Sendable, Equatable, Codable {
        public var stage: String
        public var ms: Double
    }

    public private(set) var laps: [Lap] = []

    public init() {}

    /// The time of a stage (summed if it ran more than once); 0 if it did not run.
    public subscript(stage: Stage) -> Double { self[named: stage.rawValue] }

    /// The time of a stage or a part (`align.flow`) by its name.
    public subscript(named name: String) -> Double {
        laps.filter { $0.stage == name }.reduce(0) { $0 + $1.ms }
    }

    /// The sum of the stages (their parts are inside them).
    public var total: Double { laps.filter { !$0.stage.contains(".") }.reduce(0) { $0 + $1.ms } }

    /// Every lap's name in order, stages and parts.
    public var names: [String] { laps.map(\.stage) }

    /// The stages (not their parts) in the order each first ran, each once.
    public var stages: [String] {
        var seen: Set<String> = []
        return laps.map(\.stage).filter { !$0.contains(".") && seen.insert($0).inserted }
    }

    public func ran(_ stage: Stage) -> Bool { laps.contains { $0.stage == stage.rawValue } }

    public mutating func record(_ stage: Stage, _ milliseconds: Double) { record(named: stage.rawValue, milliseconds) }

    mutating func record(named name: String, _ milliseconds: Double) {
        laps.append(Lap(stage: name, ms: milliseconds))
    }

    /// Another stretch of stages, after these.
    public mutating func append(contentsOf other: StageTimings) { laps += other.laps }

    /// A stage's own timings as its parts, named `stage.part`.
    public mutating func append(_ parts: StageTimings, under stage: Stage) {
        laps += parts.laps.map { Lap(stage: "\(stage.rawValue).\($0.stage)", ms: $0.ms) }
    }
}

/// Times consecutive stages: each `lap` records the time since the previous one.
public struct StageClock {
    private let clock = ContinuousClock()
    private var last: ContinuousClock.Instant
    public private(set) var timings = StageTimings()

    public init() { last = clock.now }

    public mutating func lap(_ stage: Stage) { lap(named: stage.rawValue) }

    /// A part of a stage, by the name its stage gives it.
    mutating func lap(named name: String) {
        let now = clock.now
        timings.record(named: name, (now - last).milliseconds)
        last = now
    }
}

extension Duration {
    /// The duration in milliseconds, with the fraction.
    public var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
