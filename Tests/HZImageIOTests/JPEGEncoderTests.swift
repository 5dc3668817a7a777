import HZImageIO
import HZTestSupport
import HybridZoom
import XCTest

final class JPEGEncoderTests: XCTestCase {
    /// Odd on purpose, so that subsampled chroma sizes round up.
    private let size = Size(width: 97, height: 61)

    func testRoundTripKeepsSmoothImagesFor420And444() throws {
        for chromaSize in [YCbCrImage.chroma420Size(for: size), size] {
            let image = smoothImage(chromaSize: chromaSize)
            let decoded = try decodeJPEG(
                encodeJPEG(image, quality: 95, exifPayload: nil),
                maxPixels: size.pixelCount
            ).image.floats
            XCTAssertEqual(decoded.cb.size, chromaSize)
            for (original, roundTripped) in [(image.y, decoded.y), (image.cb, decoded.cb), (image.cr, decoded.cr)] {
                XCTAssertGreaterThan(psnr(original, roundTripped), 40, "chroma \(chromaSize)")
            }
        }
    }

    func testChromaSizeChoosesTheSubsampling() throws {
        let halfWidth = Size(width: 49, height: 61)  // 4:2:2
        let halfHeight = Size(width: 97, height: 31)  // 4:4:0, a 4:2:2 image turned a quarter
        for chromaSize in [halfWidth, halfHeight] {
            let jpeg = try encodeJPEG(smoothImage(chromaSize: chromaSize), quality: 90, exifPayload: nil)
            XCTAssertEqual(try decodeJPEG(jpeg, maxPixels: size.pixelCount).image.cb.size, chromaSize)
        }
    }

    func testUnsupportedChromaSizeThrows() {
        let image = smoothImage(chromaSize: Size(width: 10, height: 10))
        XCTAssertThrowsError(try encodeJPEG(image, quality: 90, exifPayload: nil)) { error in
            XCTAssertEqual(
                error as? JPEGError,
                .unsupportedChromaSize(luma: size, chroma: Size(width: 10, height: 10)))
        }
    }

    func testValuesOutsideTheUnitRangeAreClamped() throws {
        for (value, expected) in [(Float(1.7), Float(1)), (-0.4, 0), (.nan, 0)] {
            let plane = Plane(width: 16, height: 16, value: value)
            let gray = Plane(width: 16, height: 16, value: 0.5)
            let jpeg = try encodeJPEG(YCbCrImage(y: plane, cb: gray, cr: gray), quality: 95, exifPayload: nil)
            let decoded = try decodeJPEG(jpeg, maxPixels: 256).image.y.floats
            XCTAssertTrue(decoded.pixels.allSatisfy { abs($0 - expected) <= 1 / 255 }, "\(value)")
        }
    }

    func testEXIFPayloadBecomesTheFirstSegment() throws {
        let camera = try decodeJPEG(Fixture.xiaomiRotate180.bytes(), maxPixels: 1_000_000)
        let payload = try XCTUnwrap(camera.exifPayload)
        let jpeg = try encodeJPEG(smoothImage(chromaSize: size), quality: 90, exifPayload: payload)

        XCTAssertEqual(Array(jpeg.prefix(4)), [0xFF, 0xD8, 0xFF, 0xE1])
        XCTAssertNil(firstIndex(of: Array("JFIF".utf8), in: jpeg), "JFIF APP0 is dropped")
        let structure = JPEGStructure(scanning: jpeg)
        XCTAssertEqual(structure.status, .complete(endOffset: jpeg.count))
        XCTAssertEqual(structure.exifPayloadRange.map { Array(jpeg[$0]) }, payload)
        XCTAssertEqual(try decodeJPEG(jpeg, maxPixels: 1_000_000).exif, camera.exif)
    }

    func testWithoutEXIFTheOutputKeepsJFIF() throws {
        let jpeg = try encodeJPEG(smoothImage(chromaSize: size), quality: 90, exifPayload: nil)
        XCTAssertEqual(Array(jpeg[6..<11]), Array("JFIF\0".utf8))
    }

    func testEXIFPayloadMustFitOneSegment() throws {
        let image = smoothImage(chromaSize: size)
        let header = Array("Exif\0\0".utf8)
        XCTAssertNoThrow(try encodeJPEG(image, quality: 90, exifPayload: header + [UInt8](repeating: 0, count: 65527)))
        XCTAssertThrowsError(try encodeJPEG(image, quality: 90, exifPayload: header + [UInt8](repeating: 0, count: 65528))) { error in
            XCTAssertEqual("\(error)", "invalid EXIF payload: 65534 bytes is more than the 65533 an APP1 segment holds")
        }
    }

    func testEXIFPayloadMustStartWithTheExifHeader() {
        XCTAssertThrowsError(try encodeJPEG(smoothImage(chromaSize: size), quality: 90, exifPayload: [1, 2, 3]))
    }

    private func smoothImage(chromaSize: Size) -> YCbCrImage {
        HZImageIOTests.smoothImage(size: size, chromaSize: chromaSize)
    }
}
