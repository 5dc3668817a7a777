import HZImageIO
import XCTest

final class EXIFOrientationResetTests: XCTestCase {
    func testRotate180PayloadIsPatchedInPlace() throws {
        let payload = try XCTUnwrap(decodeJPEG(Fixture.xiaomiRotate180.bytes(), maxPixels: 1_000_000).exifPayload)
        let reset = try resettingOrientation(inEXIFPayload: payload)

        var expected = try EXIF(app1Payload: payload)
        expected.orientation = 1
        XCTAssertEqual(try EXIF(app1Payload: reset), expected)
        XCTAssertEqual(reset.count, payload.count)
        // Big-endian 3 (00 03) becomes 1 (00 01): one byte changes, nothing else.
        let changed = payload.indices.filter { payload[$0] != reset[$0] }
        XCTAssertEqual(changed.count, 1)
        XCTAssertEqual(changed.first.map { reset[$0] }, 1)
    }

    func testUprightPayloadIsUnchanged() throws {
        let payload = try XCTUnwrap(decodeJPEG(Fixture.canon.bytes(), maxPixels: 1_000_000).exifPayload)
        XCTAssertEqual(try resettingOrientation(inEXIFPayload: payload), payload)
    }

    func testPayloadWithoutOrientationIsUnchanged() throws {
        let payload = tiff(ifd0: ifd([entry(0x0110, type: 2, count: 4, value: 0x0033_4D48)]))
        XCTAssertEqual(try resettingOrientation(inEXIFPayload: payload), payload)
    }

    func testMalformedPayloadThrows() {
        XCTAssertThrowsError(try resettingOrientation(inEXIFPayload: tiff(ifd0: le16(5))))
    }
}
