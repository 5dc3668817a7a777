import Foundation
import XCTest

@testable import HZSpool

final class TimeFormatTests: XCTestCase {
    /// 20.26 s is a double a little below it: the nearest millisecond is still .260, in the
    /// records as in the pair id.
    func testTimesAreWrittenToTheNearestMillisecond() {
        let moment = Date(timeIntervalSince1970: 1_790_000_000.26)
        XCTAssertEqual(TimeFormat.iso8601(moment), "2026-09-21T14:13:20.260Z")
        XCTAssertEqual(TimeFormat.compactStamp(moment, in: TimeZone(identifier: "UTC")!), "20260921-141320.260")
        XCTAssertEqual(TimeFormat.iso8601(Date(timeIntervalSince1970: 1_790_000_000.9996)), "2026-09-21T14:13:21.000Z")
        XCTAssertEqual(TimeFormat.parseISO8601(TimeFormat.iso8601(moment)), Date(timeIntervalSince1970: 1_790_000_000.26))
    }
}
