import HZImageIO
import XCTest

final class DerivedEXIFTests: XCTestCase {
    /// The Xiaomi's big-endian payload: Orientation 3 (00 03) becomes 1, and IFD0's link to the
    /// thumbnail's IFD (at 1084) becomes 0; nothing else changes.
    func testATurnedPayloadSaysUprightAndLosesItsThumbnail() throws {
        let payload = try XCTUnwrap(decodeJPEG(Fixture.xiaomiRotate180.bytes(), maxPixels: 1_000_000).exifPayload)
        let derived = try derivedEXIFPayload(from: payload)

        var expected = try EXIF(app1Payload: payload)
        expected.orientation = 1
        XCTAssertEqual(try EXIF(app1Payload: derived), expected)
        XCTAssertEqual(derived.count, payload.count)
        let link = 6 + 142  // "Exif\0\0", then IFD0's 11 entries from TIFF offset 8
        XCTAssertEqual(Array(payload[link..<link + 4]), [0, 0, 0x04, 0x3C])
        XCTAssertEqual(Array(derived[link..<link + 4]), [0, 0, 0, 0])
        let changed = payload.indices.filter { payload[$0] != derived[$0] }
        XCTAssertEqual(changed.count, 3)
        XCTAssertEqual(changed.filter { !(link..<link + 4).contains($0) }.map { derived[$0] }, [1])
    }

    /// An upright frame's payload keeps its orientation; the thumbnail (little-endian link at
    /// TIFF offset 154) still goes, since it shows the whole frame, not the derived image.
    func testAnUprightPayloadOnlyLosesItsThumbnail() throws {
        let payload = try XCTUnwrap(decodeJPEG(Fixture.canon.bytes(), maxPixels: 1_000_000).exifPayload)
        let derived = try derivedEXIFPayload(from: payload)
        XCTAssertEqual(try EXIF(app1Payload: derived), try EXIF(app1Payload: payload))
        let link = 6 + 154
        XCTAssertEqual(Array(derived[link..<link + 4]), [0, 0, 0, 0])
        XCTAssertEqual(Array(derived[..<link]), Array(payload[..<link]))
        XCTAssertEqual(Array(derived[(link + 4)...]), Array(payload[(link + 4)...]))
    }

    func testAPayloadWithoutOrientationOrThumbnailIsUnchanged() throws {
        let payload = tiff(ifd0: ifd([entry(0x0110, type: 2, count: 4, value: 0x0033_4D48)]))
        XCTAssertEqual(try derivedEXIFPayload(from: payload), payload)
    }

    /// A block that ends right after IFD0's entries, without the link to a next IFD: there is
    /// no thumbnail to unlink, and the orientation still says 1.
    func testABlockWithoutTheLinkAfterIFD0KeepsItsEXIF() throws {
        let payload = tiff(ifd0: le16(1) + entry(0x0112, type: 3, count: 1, value: 6))
        let derived = try derivedEXIFPayload(from: payload)
        XCTAssertEqual(derived.count, payload.count)
        XCTAssertEqual(try EXIF(app1Payload: derived).orientation, 1)
    }

    func testAMalformedPayloadThrows() {
        XCTAssertThrowsError(try derivedEXIFPayload(from: tiff(ifd0: le16(5))))
    }
}
