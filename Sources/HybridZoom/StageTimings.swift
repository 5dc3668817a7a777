/// Milliseconds per pipeline stage, in the order the stages ran.
public struct StageTimings: Sendable, Equatable, Codable {
    public struct Lap: Sendable, Equatable, Codable {
        public var stage: String
        public var ms: Double
    }

    public private(set) var laps: [Lap] = []

    public init() {}

    /// The time of a stage (summed if it ran more than once); 0 if it did not run.
    public subscript(stage: String) -> Double {
        laps.filter { $0.stage == stage }.reduce(0) { $0 + $1.ms }
    }

    /// The sum of the top-level stages (sub-stages, named `stage.part`, are inside their stage).
    public var total: Double { laps.filter { !$0.stage.contains(".") }.reduce(0) { $0 + $1.ms } }

    public var stages: [String] { laps.map(\.stage) }

    public mutating func record(_ stage: String, _ milliseconds: Double) {
        laps.append(Lap(stage: stage, ms: milliseconds))
    }

    /// Another stage's laps as sub-stages, named `prefix.stage`.
    public mutating func append(_ other: StageTimings, prefix: String) {
        laps += other.laps.map { Lap(stage: "\(prefix).\($0.stage)", ms: $0.ms) }
    }
}

/// Times consecutive stages: each `lap` records the time since the previous one.
public struct StageClock {
    private let clock = ContinuousClock()
    private var last: ContinuousClock.Instant
    public private(set) var timings = StageTimings()

    public init() { last = clock.now }

    public mutating func lap(_ stage: String) {
        let now = clock.now, elapsed = now - last
        timings.record(stage, Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        last = now
    }
}
