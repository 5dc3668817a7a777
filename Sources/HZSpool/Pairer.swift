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
///
/// Each role's frames are kept in time order, so a frame's nearest partner is one of two found
/// by bisection. Once pairs are taken no two waiting frames of different roles lie within the
/// tolerance (the closest such two would be mutual nearest), so a new frame can only pair with
/// its own nearest partner, and a frame that leaves frees no other: thousands of frames waiting
/// (a T camera that stopped) cost microseconds per frame, not seconds. A tolerance that changes
/// (a reload) has every waiting frame looked at again.
public struct Pairer: Sendable {
    /// Per role, in timestamp order (then path, so the order is total).
    private var frames: [Role: [Frame]] = [.wide: [], .tele: []]
    private var tolerance: Double?

    public init() {}

    public var waiting: [Frame] { Role.allCases.flatMap { frames[$0]! } }

    /// Adds (or replaces, by path) a frame and returns the pairs that are now complete.
    public mutating func add(_ frame: Frame, tolerance: Double) -> [FramePair] {
        remove(path: frame.path)
        frames[frame.role]!.insert(frame, at: insertionIndex(of: frame, in: frames[frame.role]!))
        var candidates = self.tolerance == tolerance ? [frame] : waiting
        self.tolerance = tolerance
        var pairs: [FramePair] = []
        while let candidate = candidates.popLast() {
            guard index(of: candidate) != nil, let partner = nearest(to: candidate, tolerance: tolerance),
                nearest(to: partner, tolerance: tolerance)?.path == candidate.path
            else { continue }
            // Their neighbours may have had them as nearest: with all frames looked at again,
            // those may pair now.
            candidates += take(candidate) + take(partner)
            pairs.append(candidate.role == .wide ? FramePair(wide: candidate, tele: partner) : FramePair(wide: partner, tele: candidate))
        }
        return pairs
    }

    /// Removes and returns the frames that have waited longer than `timeout` seconds.
    public mutating func expire(now: ContinuousClock.Instant, timeout: Double) -> [Frame] {
        let limit = Duration.milliseconds(Int64(timeout * 1000))
        let expired = waiting.filter { now - $0.arrival > limit }
        for frame in expired { _ = take(frame) }
        return expired
    }

    /// Forgets a frame whose file has gone.
    public mutating func remove(path: String) {
        remove { $0.path == path }
    }

    /// Forgets the frames `isGone` names (those below a folder that has gone).
    public mutating func remove(where isGone: (Frame) -> Bool) {
        for role in Role.allCases { frames[role]!.removeAll(where: isGone) }
    }

    /// Removes a waiting frame; returns its neighbours in its role's time order.
    private mutating func take(_ frame: Frame) -> [Frame] {
        guard let index = index(of: frame) else { return [] }
        frames[frame.role]!.remove(at: index)
        let rest = frames[frame.role]!
        return [index - 1, index].filter(rest.indices.contains).map { rest[$0] }
    }

    /// Where `frame` waits in its role's list; nil when it does not.
    private func index(of frame: Frame) -> Int? {
        let list = frames[frame.role]!, index = insertionIndex(of: frame, in: list)
        return index < list.count && list[index].path == frame.path ? index : nil
    }

    /// The closest frame of the other role within `tolerance`: the one just before or just
    /// after `frame`'s time (the earlier on a tie).
    private func nearest(to frame: Frame, tolerance: Double) -> Frame? {
        let others = frames[frame.role.other]!, index = insertionIndex(of: frame, in: others)
        return [index - 1, index].filter(others.indices.contains).map { others[$0] }
            .map { ($0, abs($0.timestamp.timeIntervalSince(frame.timestamp))) }
            .filter { $0.1 <= tolerance }
            .min { $0.1 < $1.1 }?.0
    }

    /// Where `frame` stands (or would) in a list in timestamp-then-path order.
    private func insertionIndex(of frame: Frame, in list: [Frame]) -> Int {
        var (low, high) = (0, list.count)
        while low < high {
            let middle = (low + high) / 2, other = list[middle]
            if (other.timestamp, other.path) < (frame.timestamp, frame.path) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
