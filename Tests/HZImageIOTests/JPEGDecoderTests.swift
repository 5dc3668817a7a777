import HZHarness
import HZImageIO
import HZTestSupport
import HybridZoom
import XCTest

final class JPEGDecoderTests: XCTestCase {
    private let limit = 100_000_000

    func testCameraFixturesDecodeAtTheirStoredSize() throws {
        let canon = try decodeJPEG(Fixture.canon.bytes(), maxPixels: limit)
        XCTAssertEqual(canon.storedSize, Size(width: 320, height: 240))
        XCTAssertEqual(canon.image.size, canon.storedSize)
        XCTAssertEqual(canon.image.cb.size, canon.storedSize, "the Canon file is 4:4:4")
        XCTAssertEqual(canon.warnings, [])

        let xiaomi = try decodeJPEG(Fixture.xiaomi.bytes(), maxPixels: limit)
        XCTAssertEqual(xiaomi.image.size, Size(width: 500, height: 375))
        XCTAssertEqual(xiaomi.image.cb.size, Size(width: 250, height: 188), "4:2:0, rounded up")
        XCTAssertEqual(xiaomi.image.cr.size, xiaomi.image.cb.size)
    }

    func testRotate180FileDecodesUpright() throws {
        let bytes = try Fixture.xiaomiRotate180.bytes()
        let upright = try decodeJPEG(bytes, maxPixels: limit)
        let stored = try decodeJPEG(bytes, maxPixels: limit, applyOrientation: false)
        XCTAssertEqual(upright.exif.orientation, 3)
        XCTAssertEqual(upright.storedSize, Size(width: 500, height: 375))
        XCTAssertEqual(upright.image.size, upright.storedSize)
        // Turning a row-major plane by 180° reverses its samples.
        XCTAssertEqual(upright.image.y.pixels, stored.image.y.pixels.reversed())
        XCTAssertEqual(upright.image.cb.pixels, stored.image.cb.pixels.reversed())
        XCTAssertEqual(upright.image.cr.pixels, stored.image.cr.pixels.reversed())
        XCTAssertNotEqual(upright.image.y, stored.image.y)
    }

    /// Luma alone, turned upright as the whole frame is, for colour and grayscale files.
    func testWithoutChromaTheLumaIsTheSame() throws {
        for fixture in [Fixture.xiaomiRotate180, Fixture.canon, Fixture.gray] {
            let bytes = try fixture.bytes()
            let whole = try decodeJPEG(bytes, maxPixels: limit), luma = try decodeJPEG(bytes, maxPixels: limit, chroma: false)
            XCTAssertEqual(luma.image.y, whole.image.y)
            XCTAssertEqual(luma.image.cb.size, Size(width: 0, height: 0))
            XCTAssertEqual(luma.image.cr.size, Size(width: 0, height: 0))
            XCTAssertEqual(luma.exif.orientation, whole.exif.orientation)
        }
    }

    func testLumaAgreesWithCjpegsGrayscaleOfTheSamePicture() throws {
        // cjpeg made gray.jpg from the same RGB picture as the Canon fixture, computing luma
        // itself, so this checks that the Y plane really is luma.
        let color = try decodeJPEG(Fixture.canon.bytes(), maxPixels: limit).image.y.floats
        let gray = try decodeJPEG(Fixture.gray.bytes(), maxPixels: limit).image.y.floats
        XCTAssertEqual(color.size, gray.size)
        XCTAssertLessThan(meanAbsoluteDifference(color.pixels, gray.pixels), 0.02)
    }

    func testChromaPlanesAreCbThenCr() throws {
        // The Canon photo is warm: djpeg's RGB of it averages R 105.6, B 88.4, so its Cr
        // (red difference) must average above its Cb (blue difference).
        let image = try decodeJPEG(Fixture.canon.bytes(), maxPixels: limit).image.floats
        XCTAssertGreaterThan(mean(image.cr.pixels) - mean(image.cb.pixels), 0.02)
    }

    func testGrayscaleGetsNeutralChroma() throws {
        let image = try decodeJPEG(Fixture.gray.bytes(), maxPixels: limit).image
        XCTAssertEqual(image.size, Size(width: 320, height: 240))
        XCTAssertEqual(image.cb.size, Size(width: 160, height: 120))
        XCTAssertTrue(image.cb.pixels.allSatisfy { $0 == 128 })
        XCTAssertTrue(image.cr.pixels.allSatisfy { $0 == 128 })
    }

    func testEverySubsamplingDecodesWithItsChromaSize() throws {
        let expectations: [(Fixture, Size)] = [
            (.sampling422WithRestarts, Size(width: 250, height: 375)),
            (.sampling440, Size(width: 500, height: 188)),
            (.sampling411, Size(width: 125, height: 375)),
        ]
        for (fixture, chromaSize) in expectations {
            let image = try decodeJPEG(fixture.bytes(), maxPixels: limit).image
            XCTAssertEqual(image.size, Size(width: 500, height: 375), fixture.rawValue)
            XCTAssertEqual(image.cb.size, chromaSize, fixture.rawValue)
            XCTAssertEqual(image.cr.size, chromaSize, fixture.rawValue)
        }
    }

    func testHugeHeaderIsRejectedBeforeAnythingIsAllocated() throws {
        var bytes = try Fixture.gray.bytes()
        let frameHeader = try XCTUnwrap(firstIndex(of: [0xFF, 0xC0], in: bytes))
        // Marker (2), length (2), precision (1), then height and width.
        bytes.replaceSubrange(frameHeader + 5..<frameHeader + 9, with: [0xFF, 0xFF, 0xFF, 0xFF])
        let start = Date()
        XCTAssertThrowsError(try decodeJPEG(bytes, maxPixels: limit)) { error in
            XCTAssertEqual(
                error as? JPEGError,
                .tooManyPixels(Size(width: 65535, height: 65535), limit: limit))
            XCTAssertEqual("\(error)", "image is 65535×65535 (4294.8 MP), above the limit of 100.0 MP")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    func testPixelLimitIsInclusive() throws {
        let bytes = try Fixture.gray.bytes()
        XCTAssertNoThrow(try decodeJPEG(bytes, maxPixels: 320 * 240))
        XCTAssertThrowsError(try decodeJPEG(bytes, maxPixels: 320 * 240 - 1))
    }

    func testNonJPEGErrorShowsTheFirstBytes() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        XCTAssertThrowsError(try decodeJPEG(png, maxPixels: limit)) { error in
            XCTAssertEqual("\(error)", "not a JPEG (starts with 89 50 4E 47)")
        }
    }

    func testTruncatedFileIsRejected() throws {
        let bytes = Array(try Fixture.xiaomi.bytes().prefix(50_000))
        XCTAssertThrowsError(try decodeJPEG(bytes, maxPixels: limit)) { error in
            XCTAssertEqual("\(error)", "truncated: no EOI marker after 50000 bytes")
        }
    }

    func testMalformedEXIFIsAWarningNotAFailure() throws {
        let bytes = try xiaomiWithBrokenByteOrder()
        let decoded = try decodeJPEG(bytes, maxPixels: limit)
        XCTAssertEqual(decoded.exif, EXIF())
        XCTAssertEqual(decoded.exifPayload?.count, 9835, "the raw payload still travels")
        XCTAssertEqual(decoded.warnings.count, 1)
        XCTAssertTrue(decoded.warnings[0].contains("byte order"), decoded.warnings[0])
    }

    /// A frame turned a quarter (orientation 6) whose Make does not fit its tag: the frame is
    /// still turned upright, and the one warning names the tag.
    func testATagThatDoesNotFitCostsOnlyItself() throws {
        let stored = try decodeJPEG(Fixture.canon.bytes(), maxPixels: limit).image
        let exif = tiff(ifd0: ifd([entry(0x010F, type: 7, count: 4, value: 0x4E_4F_4B_49), entry(0x0112, type: 3, count: 1, value: 6)]))
        let decoded = try decodeJPEG(encodeJPEG(stored.floats, quality: 92, exifPayload: exif), maxPixels: limit)
        XCTAssertEqual(decoded.exif.orientation, 6)
        XCTAssertEqual(decoded.image.size, Size(width: stored.size.height, height: stored.size.width))
        XCTAssertEqual(decoded.warnings, ["ignored part of the EXIF block: EXIF: tag 0x010F (make) has field type 7, which does not fit it"])
    }

    func testTheEXIFBlockIsReadWithTheFrame() throws {
        let decoded = try decodeJPEG(Fixture.xiaomiRotate180.bytes(), maxPixels: limit)
        XCTAssertEqual(decoded.storedSize, Size(width: 500, height: 375))
        XCTAssertEqual(decoded.exif.orientation, 3)
        XCTAssertEqual(decoded.exif.make, "Xiaomi")
        XCTAssertEqual(try decodeJPEG(Fixture.gray.bytes(), maxPixels: limit).exif, EXIF())
    }

    func testMalformedEXIFIsRejectedByTheReader() throws {
        let bytes = try xiaomiWithBrokenByteOrder()
        let payload = try XCTUnwrap(JPEGStructure(scanning: bytes).exifPayloadRange)
        XCTAssertThrowsError(try EXIF(app1Payload: Array(bytes[payload]))) { error in
            XCTAssertEqual(error as? EXIFError, .invalidTIFFHeader("byte order 58 58, expected II or MM"))
        }
    }

    func testRandomMutationsNeverCrashTheDecoder() throws {
        let original = try Fixture.sampling411.bytes()
        var generator = SeededRandom(seed: 2)
        for _ in 0..<300 {
            _ = try? decodeJPEG(mutated(original, headerBias: 700, using: &generator), maxPixels: 1_000_000)
        }
    }

    /// The Rotate-180 fixture with its TIFF byte order "MM" overwritten by "XX".
    private func xiaomiWithBrokenByteOrder() throws -> [UInt8] {
        var bytes = try Fixture.xiaomiRotate180.bytes()
        let payload = try XCTUnwrap(JPEGStructure(scanning: bytes).exifPayloadRange)
        bytes.replaceSubrange(payload.lowerBound + 6..<payload.lowerBound + 8, with: Array("XX".utf8))
        return bytes
    }
}
