import Foundation
import HZTestSupport
import XCTest

@testable import HZSpool

final class PublisherTests: XCTestCase {
    /// Publishing over an earlier run's sidecar (as `hzsr reprocess` does) that fails before its
    /// own sidecar is in place is a failure, with its new images removed: the sidecar already
    /// there is not this record's commit.
    func testAFailureBeforeTheNewSidecarIsAFailureOverAnOldOne() throws {
        let scratch = try ScratchFolder()
        let old = TestSidecar.json(pair: "p", decision: "fused", publishedAt: "2026-11-29T08:53:20.000Z")
        try scratch.write(Array(old.utf8), to: "out/2026-11-29/p.json")
        let record = try Publisher.readRecord(at: "\(scratch.path)/out/2026-11-29/p.json")
        var newer = record
        newer.publishedAt = Date(timeIntervalSince1970: 1_800_000_000)
        try scratch.write([0], to: "out/2026-11-29/p.maps/in the way/x")  // a folder where a file goes
        let publisher = Publisher(root: "\(scratch.path)/out", latestLink: false)
        let files = [Publisher.File(path: "p.jpg", bytes: [1, 2]), Publisher.File(path: "p.maps/in the way", bytes: [3])]
        XCTAssertThrowsError(try publisher.publish(files, record: newer, day: "2026-11-29"))
        XCTAssertEqual(scratch.files(in: "out/2026-11-29"), ["p.json", "p.maps/in the way/x"], "p.jpg removed")
        XCTAssertEqual(try String(contentsOfFile: "\(scratch.path)/out/2026-11-29/p.json", encoding: .utf8), old)
    }
}
