import Foundation
import HZImageIO
import XCTest

@testable import HZSpool

final class FrameRecognizerTests: XCTestCase {
    func testTemporaryNamesAreLeftAlone() {
        for name in [".IMG_1.jpg.part", ".hidden.jpg", "tmpfileAb12Cd", "IMG_1.jpg.tmp", "IMG_1.JPG.part", "IMG_1.jpg~", "x.crdownload"] {
            XCTAssertTrue(FrameRecognizer.isTemporary(name: name), name)
        }
        for name in ["IMG_1.jpg", "tele 2 ☀.JPG", "partial_W.jpg"] {
            XCTAssertFalse(FrameRecognizer.isTemporary(name: name), name)
        }
    }

    func testRoleFromFolderThenPattern() throws {
        let recognizer = FrameRecognizer(config: try DaemonConfig.parse("", relativeTo: "/"))
        XCTAssertEqual(recognizer.role(ofRelativePath: "W/IMG_1.jpg"), .wide)
        XCTAssertEqual(recognizer.role(ofRelativePath: "T/IMG_1_W.jpg"), .tele)  // the folder decides
        XCTAssertEqual(recognizer.role(ofRelativePath: "shot_12_t.JPG"), .tele)
        XCTAssertEqual(recognizer.role(ofRelativePath: "other/shot_12_W.jpeg"), .wide)
        XCTAssertNil(recognizer.role(ofRelativePath: "IMG_1.jpg"))
    }

    func testTimestampSourcesInOrderWithClockOffset() throws {
        let recognizer = FrameRecognizer(
            config: try DaemonConfig.parse(
                """
                timestamps:
                  file_name_pattern: '(?<year>\\d{4})(?<month>\\d\\d)(?<day>\\d\\d)_(?<hour>\\d\\d)(?<minute>\\d\\d)(?<second>\\d\\d)(?:_(?<fraction>\\d+))?'
                  time_zone: Europe/Berlin
                  clock_offset: {tele: 0.5}
                """, relativeTo: "/"))
        let mtime = Date(timeIntervalSince1970: 1_700_000_000)
        var exif = EXIF()
        exif.dateTimeOriginal = "2024:03:01 12:00:00"
        exif.subSecTimeOriginal = "095"
        let (fromEXIF, exifSource) = recognizer.timestamp(exif: exif, name: "x.jpg", modified: mtime, role: .wide)
        XCTAssertEqual(exifSource, .exif)
        XCTAssertEqual(fromEXIF.timeIntervalSince1970, 1_709_290_800.095, accuracy: 1e-6)  // 11:00 UTC

        let (fromName, nameSource) = recognizer.timestamp(exif: EXIF(), name: "IMG_20240301_120000_5.jpg", modified: mtime, role: .tele)
        XCTAssertEqual(nameSource, .fileName)
        XCTAssertEqual(fromName.timeIntervalSince1970, 1_709_290_800 + 0.5 + 0.5, accuracy: 1e-6)

        let (fromMtime, mtimeSource) = recognizer.timestamp(exif: EXIF(), name: "IMG_1.jpg", modified: mtime, role: .wide)
        XCTAssertEqual(mtimeSource, .modificationTime)
        XCTAssertEqual(fromMtime, mtime)
    }
}
