import HZImageIO
import HZTestSupport
import HybridZoom
import XCTest

final class EXIFWriterTests: XCTestCase {
    func testEveryFieldSurvivesARoundTrip() throws {
        let exif = EXIF(
            make: "HZ Rig", model: "Tele 3×", dateTimeOriginal: "2024:05:17 08:30:00",
            subSecTimeOriginal: "042", offsetTimeOriginal: "+02:00", exposureTime: 1.0 / 250,
            fNumber: 2.8, iso: 400, focalLength: 6.86, focalLengthIn35mm: 77, orientation: 6,
            subjectArea: [2000, 1500, 400, 300])
        XCTAssertEqual(try EXIF(app1Payload: exif.app1Payload()), exif)
    }

    func testEmptyEXIFSurvivesARoundTrip() throws {
        XCTAssertEqual(try EXIF(app1Payload: EXIF().app1Payload()), EXIF())
    }

    func testCameraEXIFSurvivesARoundTrip() throws {
        for fixture in [Fixture.canon, .xiaomiRotate180] {
            let camera = try decodeJPEG(fixture.bytes(), maxPixels: 1_000_000).exif
            XCTAssertEqual(try EXIF(app1Payload: camera.app1Payload()), camera, fixture.rawValue)
        }
    }

    func testRationalsAreExactWhereTheyCanBe() throws {
        for exposure in [1.0 / 3, 1.0 / 8000, 0.003, 2.5, 30] {
            let written = EXIF(exposureTime: exposure, fNumber: 1.79, focalLength: 4.71)
            XCTAssertEqual(try EXIF(app1Payload: written.app1Payload()), written)
        }
    }

    func testExposureUnderASecondIsWrittenAsOneOverN() throws {
        let payload = EXIF(exposureTime: 1.0 / 800).app1Payload()
        // Numerator 1, denominator 800, little-endian, as the camera fixture stores it.
        XCTAssertNotNil(firstIndex(of: le32(1) + le32(800), in: payload))
    }

    func testISOAboveTheSHORTRangeSaturates() throws {
        XCTAssertEqual(try EXIF(app1Payload: EXIF(iso: 102_400).app1Payload()).iso, 65535)
    }

    func testPayloadIsALittleEndianExifBlockThatFitsASegment() throws {
        let payload = EXIF(make: "HZ Rig").app1Payload()
        XCTAssertEqual(Array(payload.prefix(10)), Array("Exif\0\0II".utf8) + [42, 0])
        let size = Size(width: 8, height: 8)
        let image = smoothImage(size: size, chromaSize: size)
        let jpeg = try encodeJPEG(image, quality: 80, exifPayload: payload)
        XCTAssertEqual(try decodeJPEG(jpeg, maxPixels: 1_000_000).exif.make, "HZ Rig")
    }
}
