import Dispatch
import Foundation
import Synchronization

/// Splits `0..<count` into contiguous chunks and runs `body` on them on all cores.
///
/// A few chunks per core balance the load when rows cost unequal amounts; each chunk is a range
/// so that the body keeps its per-row setup outside the inner loop. `itemCost` (for rows: the
/// row's width) keeps small jobs, such as the coarse levels of a pyramid, on one thread: a
/// chunk of fewer than about 16 000 pixels costs less than handing it to another core.
///
/// `body` is not `@Sendable`, on purpose: the pixel loops that call this read the caller's
/// buffers through pointers that are only valid inside a `withUnsafe…BufferPointer` scope, and
/// Sendable closures could not capture them. What makes it safe instead is this contract:
/// - the call returns only after every chunk has run (`concurrentPerform` joins them), so the
///   body never outlives the scope of the pointers it reads;
/// - chunks run at the same time, so `body` may write only the elements that belong to its
///   range (output rows `range`, say), and read shared state that no chunk writes.
/// Writes go through `UncheckedSendable` to mark the one place each call site relies on that.
/// `ParallelTests` checks both.
public func parallelChunks(_ count: Int, itemCost: Int = .max, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let worthwhile = itemCost == .max ? count : max(1, count * itemCost / 16_384)
    let chunks = min(count, worthwhile, chunksPerJob)
    if chunks == 1 { return body(0..<count) }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            shared.value(count * chunk / chunks..<count * (chunk + 1) / chunks)
        }
    }
}

/// A few chunks per core. Read once: asking the system for the core count costs microseconds,
/// more than a small job's whole chunk.
private let chunksPerJob = ProcessInfo.processInfo.activeProcessorCount * 4

/// Carries a value that is not `Sendable` (a buffer pointer, a closure over one) into
/// `parallelChunks`, whose chunks write disjoint parts of it.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

extension Array where Element: Sendable {
    /// `map` with the elements spread over the cores, results in order: for a few large,
    /// independent jobs such as decoding W and T. Throws the first error in element order; with
    /// a closure that cannot throw, neither can this.
    public func concurrentMap<T: Sendable, E: Error>(_ transform: @Sendable (Element) throws(E) -> T) throws(E) -> [T] {
        let results = Mutex<[Result<T, E>?]>([Result<T, E>?](repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let result = Result<T, E> { () throws(E) -> T in try transform(self[index]) }
            results.withLock { $0[index] = result }
        }
        return try results.withLock { $0 }.map { result throws(E) -> T in try result!.get() }
    }
}
