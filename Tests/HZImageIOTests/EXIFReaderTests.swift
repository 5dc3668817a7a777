import HZHarness
import HZImageIO
import HybridZoom
import XCTest

final class EXIFReaderTests: XCTestCase {
    // Expected values are exiftool's reading of the original camera files; the rationals are
    // the fractions it shows with -v3.

    func testCanonLittleEndianEXIF() throws {
        XCTAssertEqual(
            try exif(of: .canon),
            EXIF(
                make: "Canon", model: "Canon PowerShot SX530 HS", dateTimeOriginal: "2020:09:12 11:49:38",
                exposureTime: 1.0 / 800, fNumber: 45.0 / 10, iso: 100, focalLength: 14368.0 / 1000,
                orientation: 1))
    }

    func testXiaomiBigEndianEXIFWithRotate180() throws {
        XCTAssertEqual(
            try exif(of: .xiaomiRotate180),
            EXIF(
                make: "Xiaomi", model: "Mi A3", dateTimeOriginal: "2020:01:24 23:11:53",
                subSecTimeOriginal: "332084", exposureTime: 1.0 / 20, fNumber: 179.0 / 100, iso: 1792,
                focalLength: 4710.0 / 1000, focalLengthIn35mm: 0, orientation: 3))
    }

    func testXiaomiDaylightEXIF() throws {
        XCTAssertEqual(
            try exif(of: .xiaomi),
            EXIF(
                make: "Xiaomi", model: "Mi A3", dateTimeOriginal: "2020:06:08 11:16:13",
                subSecTimeOriginal: "868104", exposureTime: 1.0 / 378, fNumber: 179.0 / 100, iso: 100,
                focalLength: 4710.0 / 1000, focalLengthIn35mm: 0, orientation: 1))
    }

    func testPayloadWithoutExifHeaderThrows() {
        XCTAssertThrowsError(try EXIF(app1Payload: Array("http://ns.adobe.com/xap/1.0/\0".utf8))) {
            XCTAssertEqual($0 as? EXIFError, .missingExifHeader)
        }
    }

    func testInvalidTIFFHeadersThrow() {
        let badMagic = Array("Exif\0\0II".utf8) + [43, 0, 8, 0, 0, 0]
        XCTAssertThrowsError(try EXIF(app1Payload: badMagic)) {
            XCTAssertEqual($0 as? EXIFError, .invalidTIFFHeader("magic number 43, expected 42"))
        }
        XCTAssertThrowsError(try EXIF(app1Payload: Array("Exif\0\0II*".utf8))) {
            XCTAssertEqual($0 as? EXIFError, .outOfBounds(what: "TIFF header", offset: 0, length: 8, available: 3))
        }
    }

    func testIFDOffsetPastTheEndThrows() {
        let payload = Array("Exif\0\0II".utf8) + [42, 0] + le32(1000)
        XCTAssertThrowsError(try EXIF(app1Payload: payload)) {
            XCTAssertEqual($0 as? EXIFError, .outOfBounds(what: "a 16-bit value", offset: 1000, length: 2, available: 8))
        }
    }

    func testEntryCountRunningPastTheEndThrows() {
        XCTAssertThrowsError(try EXIF(app1Payload: tiff(ifd0: le16(100)))) {
            XCTAssertEqual($0 as? EXIFError, .outOfBounds(what: "IFD0", offset: 8, length: 1202, available: 10))
        }
    }

    func testValueCountRunningPastTheEndIsAProblemOfItsOwn() throws {
        let payload = tiff(ifd0: ifd([entry(0x010F, type: 2, count: 1000, value: 26)]) + Array("Canon\0".utf8))
        var problems: [EXIFError] = []
        XCTAssertNil(try EXIF(app1Payload: payload, problems: &problems).make)
        XCTAssertEqual(problems, [.outOfBounds(what: "the values of tag 0x010F (make)", offset: 26, length: 1000, available: 32)])
    }

    func testHugeCountIsRejectedBeforeAllocating() throws {
        let payload = tiff(ifd0: ifd([entry(0x0112, type: 3, count: .max, value: 26)]))
        var problems: [EXIFError] = []
        XCTAssertEqual(try EXIF(app1Payload: payload, problems: &problems).orientation, 1)
        guard case .outOfBounds(_, _, let length, _) = problems.first else { return XCTFail("\(problems)") }
        XCTAssertEqual(length, 2 * Int(UInt32.max))
    }

    func testExifIFDPointingBackToIFD0IsAProblemOfItsOwn() throws {
        let payload = tiff(ifd0: ifd([entry(0x0112, type: 3, count: 1, value: 6), entry(0x8769, type: 4, count: 1, value: 8)]))
        var problems: [EXIFError] = []
        XCTAssertEqual(try EXIF(app1Payload: payload, problems: &problems).orientation, 6)
        XCTAssertEqual(problems, [.cyclicIFD(offset: 8)])
        XCTAssertEqual("\(problems[0])", "EXIF: the Exif IFD pointer leads back to IFD0 at offset 8")
    }

    func testExifIFDPastTheEndIsAProblemOfItsOwn() throws {
        let payload = tiff(ifd0: ifd([entry(0x0112, type: 3, count: 1, value: 8), entry(0x8769, type: 4, count: 1, value: 5000)]))
        var problems: [EXIFError] = []
        XCTAssertEqual(try EXIF(app1Payload: payload, problems: &problems).orientation, 8)
        XCTAssertEqual(problems, [.outOfBounds(what: "a 16-bit value", offset: 5000, length: 2, available: 38)])
    }

    /// A camera that writes Make as UNDEFINED (type 7) beside a turned frame: Make is left
    /// unknown, and the orientation still turns the pixels.
    func testAWrongFieldTypeCostsOnlyItsTag() throws {
        let payload = tiff(ifd0: ifd([entry(0x010F, type: 7, count: 4, value: 0x4E_4F_4B_49), entry(0x0112, type: 3, count: 1, value: 6)]))
        var problems: [EXIFError] = []
        let exif = try EXIF(app1Payload: payload, problems: &problems)
        XCTAssertEqual(exif.orientation, 6)
        XCTAssertNil(exif.make)
        XCTAssertEqual(problems, [.unexpectedType(tag: 0x010F, type: 7)])
    }

    func testSubjectAreaWithFiveValuesIsAProblemOfItsOwn() throws {
        // IFD0 (8…25) points to the Exif IFD at 26 (26…43), whose SubjectArea values are at 44.
        let exifIFD = ifd([entry(0x9214, type: 3, count: 5, value: 44)]) + [UInt8](repeating: 1, count: 10)
        let payload = tiff(ifd0: ifd([entry(0x8769, type: 4, count: 1, value: 26)]) + exifIFD)
        var problems: [EXIFError] = []
        XCTAssertNil(try EXIF(app1Payload: payload, problems: &problems).subjectArea)
        XCTAssertEqual(problems, [.unexpectedCount(tag: 0x9214, count: 5, expected: 2...4)])
    }

    func testInvalidOrientationReadsAsOne() throws {
        let payload = tiff(ifd0: ifd([entry(0x0112, type: 3, count: 1, value: 9)]))
        XCTAssertEqual(try EXIF(app1Payload: payload).orientation, 1)
    }

    func testZeroDenominatorReadsAsUnknown() throws {
        // IFD0 (8…25) points to the Exif IFD at 26 (26…43), whose FNumber 0/0 is at 44.
        let exifIFD = ifd([entry(0x829D, type: 5, count: 1, value: 44)]) + le32(0) + le32(0)
        let payload = tiff(ifd0: ifd([entry(0x8769, type: 4, count: 1, value: 26)]) + exifIFD)
        XCTAssertNil(try EXIF(app1Payload: payload).fNumber)
    }

    func testRandomMutationsOfARealPayloadNeverCrash() throws {
        let original = try XCTUnwrap(decodeJPEG(Fixture.xiaomiRotate180.bytes(), maxPixels: 1_000_000).exifPayload)
        var generator = SeededRandom(seed: 3)
        for _ in 0..<3000 {
            let payload = mutated(original, headerBias: 200, using: &generator)
            _ = try? EXIF(app1Payload: payload)
            _ = try? derivedEXIFPayload(from: payload)
        }
    }

    private func exif(of fixture: Fixture) throws -> EXIF {
        try EXIF(app1Payload: XCTUnwrap(decodeJPEG(fixture.bytes(), maxPixels: 1_000_000).exifPayload))
    }
}

// Hand-assembled little-endian TIFF blocks, independent of the module's writer.

/// "Exif\0\0", a little-endian TIFF header, then IFD0 at offset 8.
func tiff(ifd0: [UInt8]) -> [UInt8] {
    Array("Exif\0\0II".utf8) + le16(42) + le32(8) + ifd0
}

/// Entry count, entries, next-IFD offset 0.
func ifd(_ entries: [[UInt8]]) -> [UInt8] {
    le16(UInt16(entries.count)) + entries.flatMap { $0 } + le32(0)
}

func entry(_ tag: UInt16, type: UInt16, count: UInt32, value: UInt32) -> [UInt8] {
    le16(tag) + le16(type) + le32(count) + le32(value)
}

func le16(_ value: UInt16) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8(value >> 8)]
}

func le32(_ value: UInt32) -> [UInt8] {
    le16(UInt16(value & 0xFFFF)) + le16(UInt16(value >> 16))
}
