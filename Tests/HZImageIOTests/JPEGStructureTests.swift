import HZHarness
import HZImageIO
import HZTestSupport
import HybridZoom
import XCTest

final class JPEGStructureTests: XCTestCase {
    func testEveryFixtureIsCompleteUpToItsLastByte() throws {
        for fixture in Fixture.allCases {
            let bytes = try fixture.bytes()
            XCTAssertEqual(
                JPEGStructure(scanning: bytes).status, .complete(endOffset: bytes.count),
                fixture.rawValue)
        }
    }

    func testFrameSizeComesFromTheFrameHeader() throws {
        XCTAssertEqual(
            JPEGStructure(scanning: try Fixture.canon.bytes()).frameSize,
            Size(width: 320, height: 240))
        XCTAssertEqual(
            JPEGStructure(scanning: try Fixture.sampling411.bytes()).frameSize,
            Size(width: 500, height: 375))
    }

    func testBytesAfterEOIAreAllowed() throws {
        let bytes = try Fixture.gray.bytes()
        XCTAssertEqual(
            JPEGStructure(scanning: bytes + [0, 0xFF, 0xD9, 0x42]).status,
            .complete(endOffset: bytes.count))
    }

    func testExifPayloadRangeIsTheCamerasAPP1Payload() throws {
        // The fixture script puts the Canon's 15112-byte APP1 segment (length field included)
        // right after SOI, so its payload starts at offset 6.
        let bytes = try Fixture.canon.bytes()
        let range = try XCTUnwrap(JPEGStructure(scanning: bytes).exifPayloadRange)
        XCTAssertEqual(range, 6..<6 + 15110)
        XCTAssertEqual(Array(bytes[range.prefix(6)]), Array("Exif\0\0".utf8))
        XCTAssertNil(JPEGStructure(scanning: try Fixture.gray.bytes()).exifPayloadRange)
    }

    func testEmptyData() {
        XCTAssertEqual(JPEGStructure(scanning: []).status, .empty)
    }

    func testDataWithoutSOIIsNotJPEG() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        XCTAssertEqual(JPEGStructure(scanning: png).status, .notJPEG)
        XCTAssertEqual(JPEGStructure(scanning: [0xFF, 0xD9]).status, .notJPEG)
    }

    func testEveryTruncationOfAFileWithRestartMarkersIsTruncated() throws {
        let bytes = try Fixture.sampling422WithRestarts.bytes()
        assertTruncated(bytes, cutTo: Array(1..<bytes.count))
    }

    func testTruncationsOfAProgressiveFileAreTruncated() throws {
        let bytes = try Fixture.canon.bytes()
        let exifEnd = try XCTUnwrap(JPEGStructure(scanning: bytes).exifPayloadRange).upperBound
        let startOfScan: [UInt8] = [0xFF, 0xDA]
        let firstScan = try XCTUnwrap(firstIndex(of: startOfScan, in: bytes, from: exifEnd))
        let secondScan = try XCTUnwrap(
            firstIndex(of: startOfScan, in: bytes, from: firstScan + 2),
            "a progressive file has several scans")
        let aroundScans = [firstScan + 1, secondScan - 1, secondScan, secondScan + 5, bytes.count - 1]
        assertTruncated(bytes, cutTo: aroundScans + Array(stride(from: 1, to: bytes.count, by: 97)))
    }

    private func assertTruncated(
        _ bytes: [UInt8], cutTo lengths: [Int],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        for length in lengths {
            guard case .truncated = JPEGStructure(scanning: Array(bytes.prefix(length))).status else {
                return XCTFail(
                    "the first \(length) of \(bytes.count) bytes are not reported truncated",
                    file: file, line: line)
            }
        }
    }

    func testSegmentRunningPastTheEndIsTruncated() throws {
        let status = JPEGStructure(scanning: Array(try Fixture.canon.bytes().prefix(100))).status
        XCTAssertEqual(status, .truncated("segment FFE1 at offset 2 needs 15112 bytes, only 96 left"))
    }

    func testMissingEOIIsTruncated() throws {
        let bytes = try Fixture.gray.bytes().dropLast(2)
        XCTAssertEqual(
            JPEGStructure(scanning: Array(bytes)).status,
            .truncated("no EOI marker after \(bytes.count) bytes"))
    }

    /// Bytes that are no marker are skipped to the next one, as libjpeg does; here they are a
    /// whole segment whose marker was overwritten, and what follows fails, naming them.
    func testGarbageWhereAMarkerBelongsIsMalformed() throws {
        var bytes = try Fixture.canon.bytes()
        bytes[2] = 0x12
        XCTAssertEqual(
            JPEGStructure(scanning: bytes).status,
            .malformed("segment FF7F at offset 2966 has length 0 (after stray bytes at offset 2)"))
    }

    func testEOIBeforeAnyScanIsMalformed() {
        guard case .malformed = JPEGStructure(scanning: [0xFF, 0xD8, 0xFF, 0xD9]).status else {
            return XCTFail("SOI followed by EOI is not an image")
        }
    }

    func testRandomMutationsNeverCrash() throws {
        let original = try Fixture.sampling440.bytes()
        var generator = SeededRandom(seed: 1)
        for _ in 0..<3000 {
            let bytes = mutated(original, headerBias: 700, using: &generator)
            let structure = JPEGStructure(scanning: bytes)
            if case .complete(let end) = structure.status {
                XCTAssertLessThanOrEqual(end, bytes.count)
                XCTAssertNotNil(structure.frameSize)
            }
        }
    }
}
