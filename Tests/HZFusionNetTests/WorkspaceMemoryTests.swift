import XCTest

@testable import HZFusionNet

final class WorkspaceMemoryTests: XCTestCase {
    /// A region given back serves the next request it is large enough for, contents and all: a
    /// daemon's workspaces are faulted in by its first capture only. A region in use is never
    /// handed out twice.
    func testRegionsAreKeptAndReused() {
        let memory = WorkspaceMemory(), size = 3 << 20, end = (3 << 20) - 8
        let first = memory.take(bytes: size)
        XCTAssertEqual(Int(bitPattern: first.address) % (2 << 20), 0, "on a huge-page boundary")
        first.address.storeBytes(of: 42, toByteOffset: end, as: Int.self)
        memory.give(first.address, bytes: first.bytes)

        let again = memory.take(bytes: 1 << 20)
        XCTAssertEqual(again.address, first.address)
        XCTAssertEqual(again.bytes, size)
        XCTAssertEqual(again.address.load(fromByteOffset: end, as: Int.self), 42)
        let other = memory.take(bytes: 1 << 20)
        XCTAssertNotEqual(other.address, again.address)
        other.address.storeBytes(of: 7, toByteOffset: (1 << 20) - 8, as: Int.self)

        memory.give(again.address, bytes: again.bytes)
        memory.give(other.address, bytes: other.bytes)
        memory.release()
    }
}
