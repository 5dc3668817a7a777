import HZImageIO
import HZTestSupport
import HybridZoom
import XCTest

/// Files whose decode fails or goes wrong part way: a fatal error is always an error, even after a
/// warning, and corrupt scan data is refused unless the caller takes it.
final class DecoderFailureTests: XCTestCase {
    private let limit = 1_000_000

    func testUnknownJFIFRevisionAloneIsAWarning() throws {
        let decoded = try decodeJPEG(try JPEGDamage.unknownJFIFRevision(Fixture.sampling440.bytes()), maxPixels: limit)
        XCTAssertEqual(decoded.image.size, Size(width: 500, height: 375))
        XCTAssertEqual(decoded.warnings, ["Warning: unknown JFIF revision number 33.01"])
    }

    /// The frame that once crashed the daemon: TurboJPEG reported the failed header read as a
    /// warning (left over from the JFIF one) and the decode went on with subsampling -1.
    func testUnusualSamplingAfterAWarningIsAnError() throws {
        let bytes = try JPEGDamage.lumaSampling(0x23, JPEGDamage.unknownJFIFRevision(Fixture.sampling440.bytes()))
        assertUndecodable(bytes, "unsupported chroma sampling: Y 2×3, Cb 1×1, Cr 1×1")
    }

    func testMissingQuantizationTablesAfterAWarningAreAnError() throws {
        let bytes = try JPEGDamage.withoutQuantizationTables(JPEGDamage.unknownJFIFRevision(Fixture.sampling440.bytes()))
        assertUndecodable(bytes, "Quantization table 0x00 was not defined")
    }

    func testScanNamingAnUndefinedHuffmanTableAfterAWarningIsAnError() throws {
        let bytes = try JPEGDamage.undefinedHuffmanTable(JPEGDamage.unknownJFIFRevision(Fixture.sampling440.bytes()))
        assertUndecodable(bytes, "Huffman table 0x03 was not defined")
    }

    func testCutShortScanIsRefusedUnlessTheCallerTakesIt() throws {
        let bytes = try JPEGDamage.cutShortScan(Fixture.sampling440.bytes())
        XCTAssertThrowsError(try decodeJPEG(bytes, maxPixels: limit)) { error in
            XCTAssertEqual("\(error)", "corrupt scan data: Corrupt JPEG data: premature end of data segment")
        }
        let used = try decodeJPEG(bytes, maxPixels: limit, usingCorruptData: true)
        XCTAssertEqual(used.warnings, ["Corrupt JPEG data: premature end of data segment"])
        XCTAssertEqual(used.image.size, Size(width: 500, height: 375))
    }

    /// In a file with restart markers (as this project's encoder writes, and many cameras), the
    /// end that came early is said once, not again at each restart marker that is then missing.
    func testCutShortScanWithRestartMarkersIsOneWarning() throws {
        let size = Size(width: 320, height: 240)
        let image = smoothImage(size: size, chromaSize: YCbCrImage.chroma420Size(for: size))
        let bytes = try JPEGDamage.cutShortScan(encodeJPEG(image, quality: 90, exifPayload: nil))
        let used = try decodeJPEG(bytes, maxPixels: limit, usingCorruptData: true)
        XCTAssertEqual(used.warnings, ["Corrupt JPEG data: premature end of data segment"])
    }

    func testStrayBytesBetweenSegmentsLeaveThePicture() throws {
        // More than the entropy decoder reads ahead, so that libjpeg sees them.
        var bytes = try Fixture.gray.bytes()
        bytes.insert(contentsOf: [UInt8](repeating: 0, count: 64), at: bytes.count - 2)
        let decoded = try decodeJPEG(bytes, maxPixels: limit)
        XCTAssertEqual(decoded.warnings.count, 1)
        XCTAssertTrue(decoded.warnings[0].contains("extraneous bytes before marker 0xd9"), "\(decoded.warnings)")
        XCTAssertEqual(decoded.image.y, try decodeJPEG(Fixture.gray.bytes(), maxPixels: limit).image.y)
    }

    /// Between header segments (here before the scan), where the structure is walked before
    /// libjpeg decodes: taken as libjpeg takes them, with its warning, not refused.
    func testStrayBytesBetweenHeaderSegmentsLeaveThePicture() throws {
        var bytes = try Fixture.gray.bytes()
        let scan = try XCTUnwrap((0..<bytes.count - 1).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
        bytes.insert(contentsOf: [0x12, 0x34], at: scan)
        let decoded = try decodeJPEG(bytes, maxPixels: limit)
        XCTAssertEqual(decoded.warnings.count, 1)
        XCTAssertTrue(decoded.warnings[0].contains("2 extraneous bytes before marker 0xda"), "\(decoded.warnings)")
        XCTAssertEqual(decoded.image.y, try decodeJPEG(Fixture.gray.bytes(), maxPixels: limit).image.y)
    }

    /// An FF followed by 00 among them is no marker (in a scan it is a stuffed FF): libjpeg
    /// passes over it, and so does the walk. (libjpeg counts 5 of the 6 bytes: a doubled FF is
    /// fill, not stray.)
    func testStuffedFFAmongStrayBytesLeavesThePicture() throws {
        var bytes = try Fixture.gray.bytes()
        let scan = try XCTUnwrap((0..<bytes.count - 1).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
        bytes.insert(contentsOf: [0xFF, 0x00, 0x12, 0xFF, 0xFF, 0x00], at: scan)
        XCTAssertEqual(JPEGStructure(scanning: bytes).status, .complete(endOffset: bytes.count))
        let decoded = try decodeJPEG(bytes, maxPixels: limit)
        XCTAssertEqual(decoded.warnings.count, 1)
        XCTAssertTrue(decoded.warnings[0].contains("5 extraneous bytes before marker 0xda"), "\(decoded.warnings)")
        XCTAssertEqual(decoded.image.y, try decodeJPEG(Fixture.gray.bytes(), maxPixels: limit).image.y)
    }

    private func assertUndecodable(_ bytes: [UInt8], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decodeJPEG(bytes, maxPixels: limit, usingCorruptData: true), file: file, line: line) { error in
            XCTAssertEqual(error as? JPEGError, .undecodable(message), file: file, line: line)
            XCTAssertEqual("\(error)", "cannot decode: \(message)", file: file, line: line)
        }
    }
}
