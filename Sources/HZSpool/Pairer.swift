import Foundation

/// A W and a T frame of the same moment.
public struct FramePair: Sendable, Equatable {
    public var wide: Frame
    public var tele: Frame

    public init(wide: Frame, tele: Frame) {
        self.wide = wide
        self.tele = tele
    }
}

/// Matches W and T frames by timestamp.
///
/// Two frames pair when their timestamps differ by at most the tolerance and each is the
/// other's closest candidate among the waiting frames (mutual nearest), so a frame never grabs a
/// partner that a closer frame is waiting for, whatever order files arrive in.
public struct Pairer: Sendable {
    public private(set) var waiting: [Frame] = []

    public init() {}

    /// Adds (or replaces, by path) a frame and returns the pairs that are now complete.
    public mutating func add(_ frame: Frame, tolerance: Double) -> [FramePair] {
        waiting.removeAll { $0.path == frame.path }
        waiting.append(frame)
        var pairs: [FramePair] = []
        while let pair = mutualNearestPair(tolerance: tolerance) {
            waiting.removeAll { $0.path == pair.wide.path || $0.path == pair.tele.path }
            pairs.append(pair)
        }
        return pairs
    }

    /// Removes and returns the frames that have waited longer than `timeout` seconds.
    public mutating func expire(now: ContinuousClock.Instant, timeout: Double) -> [Frame] {
        let limit = Duration.milliseconds(Int64(timeout * 1000))
        let expired = waiting.filter { now - $0.arrival > limit }
        waiting.removeAll { now - $0.arrival > limit }
        return expired
    }

    /// Forgets a frame whose file has gone.
    public mutating func remove(path: String) {
        waiting.removeAll { $0.path == path }
    }

    private func mutualNearestPair(tolerance: Double) -> FramePair? {
        for frame in waiting {
            guard let partner = nearest(to: frame, tolerance: tolerance),
                nearest(to: partner, tolerance: tolerance)?.path == frame.path
            else { continue }
            return frame.role == .wide ? FramePair(wide: frame, tele: partner) : FramePair(wide: partner, tele: frame)
        }
        return nil
    }

    private func nearest(to frame: Frame, tolerance: Double) -> Frame? {
        waiting.lazy
            .filter { $0.role != frame.role }
            .map { ($0, abs($0.timestamp.timeIntervalSince(frame.timestamp))) }
            .filter { $0.1 <= tolerance }
            .min { $0.1 < $1.1 }?.0
    }
}
