import HybridZoom
import Synchronization
import XCTest

/// The contract `parallelChunks` bodies rely on: chunks cover the range once, run at the same
/// time on several threads, and have all finished when the call returns.
final class ParallelTests: XCTestCase {
    func testChunksCoverTheRangeOnceAndAllFinishBeforeTheCallReturns() {
        let count = 100_000
        var values = [Int](repeating: -1, count: count)
        let finished = Atomic(0), threads = Mutex(Set<pthread_t>())
        values.withUnsafeMutableBufferPointer { buffer in
            let output = UncheckedSendable(buffer)
            parallelChunks(count, itemCost: 1) { range in
                threads.withLock { _ = $0.insert(pthread_self()) }
                for i in range {
                    XCTAssertEqual(output.value[i], -1, "written twice")
                    output.value[i] = i * 3
                }
                usleep(2_000)  // so that chunks overlap in time
                finished.add(range.count, ordering: .relaxed)
            }
            XCTAssertEqual(finished.load(ordering: .relaxed), count, "every chunk done when the call returns")
        }
        XCTAssertEqual(values, (0..<count).map { $0 * 3 })
        if ProcessInfo.processInfo.activeProcessorCount > 1 {
            XCTAssertGreaterThan(threads.withLock { $0.count }, 1, "chunks ran on more than one thread")
        }
    }

    func testSmallJobsStayOnTheCallersThread() {
        let caller = pthread_self(), ranges = Mutex([Range<Int>]())
        parallelChunks(8, itemCost: 100) { range in
            XCTAssertTrue(pthread_equal(pthread_self(), caller) != 0)
            ranges.withLock { $0.append(range) }
        }
        XCTAssertEqual(ranges.withLock { $0 }, [0..<8])
    }
}
