import Foundation
import HZImageIO
import XCTest

final class CaptureTimeTests: XCTestCase {
    private let utc = TimeZone(secondsFromGMT: 0)!

    func testWholeSecondsInTheDefaultTimeZone() {
        let exif = EXIF(dateTimeOriginal: "2020:09:12 11:49:38")
        XCTAssertEqual(exif.captureTime(defaultTimeZone: utc), instant("2020-09-12T11:49:38Z"))
        XCTAssertEqual(
            exif.captureTime(defaultTimeZone: TimeZone(secondsFromGMT: 3600)!),
            instant("2020-09-12T10:49:38Z"))
    }

    func testSubSecondIsADecimalFraction() throws {
        let expectations = ["5": 0.5, "095": 0.095, "007419": 0.007419, "332084": 0.332084, "25  ": 0.25]
        for (subSec, fraction) in expectations {
            let exif = EXIF(dateTimeOriginal: "2020:09:12 11:49:38", subSecTimeOriginal: subSec)
            let time = try XCTUnwrap(exif.captureTime(defaultTimeZone: utc))
            XCTAssertEqual(
                time.timeIntervalSince(instant("2020-09-12T11:49:38Z")), fraction,
                accuracy: 1e-6, subSec)
        }
    }

    func testUnreadableSubSecondIsIgnored() {
        for subSec in ["", "   ", "5a", "-1"] {
            let exif = EXIF(dateTimeOriginal: "2020:09:12 11:49:38", subSecTimeOriginal: subSec)
            XCTAssertEqual(exif.captureTime(defaultTimeZone: utc), instant("2020-09-12T11:49:38Z"), subSec)
        }
    }

    func testOffsetTimeOverridesTheDefaultTimeZone() {
        let paris = TimeZone(identifier: "Europe/Paris")!
        let east = EXIF(dateTimeOriginal: "2020:09:12 11:49:38", offsetTimeOriginal: "+02:00")
        XCTAssertEqual(east.captureTime(defaultTimeZone: paris), instant("2020-09-12T09:49:38Z"))
        let west = EXIF(dateTimeOriginal: "2020:09:12 11:49:38", offsetTimeOriginal: "-05:30")
        XCTAssertEqual(west.captureTime(defaultTimeZone: paris), instant("2020-09-12T17:19:38Z"))
    }

    func testAllThreeFieldsTogether() throws {
        let exif = EXIF(
            dateTimeOriginal: "2024:01:01 00:00:00", subSecTimeOriginal: "5",
            offsetTimeOriginal: "+01:00")
        let time = try XCTUnwrap(exif.captureTime(defaultTimeZone: utc))
        XCTAssertEqual(time.timeIntervalSince(instant("2023-12-31T23:00:00Z")), 0.5, accuracy: 1e-6)
    }

    func testMissingOrInvalidDatesGiveNil() {
        for text in ["    :  :     :  :  ", "2020:13:01 00:00:00", "2020:02:30 00:00:00", "2020-09-12 11:49:38"] {
            XCTAssertNil(EXIF(dateTimeOriginal: text).captureTime(defaultTimeZone: utc), text)
        }
        XCTAssertNil(EXIF().captureTime(defaultTimeZone: utc))
    }

    func testCameraFixture() throws {
        let exif = try decodeJPEG(Fixture.xiaomiRotate180.bytes(), maxPixels: 1_000_000).exif
        let time = try XCTUnwrap(exif.captureTime(defaultTimeZone: utc))
        XCTAssertEqual(time.timeIntervalSince(instant("2020-01-24T23:11:53Z")), 0.332084, accuracy: 1e-6)
    }

    private func instant(_ iso8601: String) -> Date {
        ISO8601DateFormatter().date(from: iso8601)!
    }
}
