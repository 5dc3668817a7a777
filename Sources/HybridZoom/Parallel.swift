import Dispatch
import Foundation

/// Splits `0..<count` into contiguous chunks and runs `body` on them on all cores.
///
/// A few chunks per core balance the load when rows cost unequal amounts; each chunk is a range
/// so that the body keeps its per-row setup outside the inner loop.
func parallelChunks(_ count: Int, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let chunks = min(count, ProcessInfo.processInfo.activeProcessorCount * 4)
    if chunks == 1 { return body(0..<count) }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            shared.value(count * chunk / chunks ..< count * (chunk + 1) / chunks)
        }
    }
}

/// Carries a value that is not `Sendable` (a buffer pointer, a closure over one) into
/// `parallelChunks`, whose chunks write disjoint parts of it.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
