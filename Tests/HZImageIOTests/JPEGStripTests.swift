import HybridZoom
import XCTest

@testable import HZImageIO

/// The encoder's strips, encoded apart and joined, make the file of one encode.
final class JPEGStripTests: XCTestCase {
    func testAnyNumberOfStripsMakesTheSameFile() throws {
        for size in [Size(width: 97, height: 61), Size(width: 640, height: 481), Size(width: 33, height: 17)] {
            for (h, v) in [(2, 2), (1, 1), (2, 1), (1, 2)] {
                let image = noisyImage(size, chroma: Size(width: (size.width + h - 1) / h, height: (size.height + v - 1) / v))
                let whole = try encodeJPEG(image, quality: 92, exifPayload: nil, strips: 1)
                for strips in [2, 3, 7, 100] {
                    let joined = try encodeJPEG(image, quality: 92, exifPayload: nil, strips: strips)
                    XCTAssertEqual(joined, whole, "\(size) sampled \(h)×\(v) in \(strips) strips")
                }
                // Decoded without a warning: every restart marker is where and what a decoder expects.
                let decoded = try decodeJPEG(whole, maxPixels: size.pixelCount)
                XCTAssertEqual(decoded.warnings, [])
                XCTAssertEqual(decoded.image.size, size)
                XCTAssertEqual(decoded.image.cb.size, image.cb.size)
            }
        }
    }

    func testEveryRowOfMCUsEndsInTheNextRestartMarker() throws {
        let size = Size(width: 160, height: 16 * 20 + 5)  // 21 rows of 4:2:0 MCUs
        let image = noisyImage(size, chroma: YCbCrImage.chroma420Size(for: size))
        let jpeg = try encodeJPEG(image, quality: 92, exifPayload: nil, strips: 4)
        let markers = zip(jpeg, jpeg.dropFirst()).compactMap { first, second in
            first == 0xFF && (0xD0...0xD7).contains(second) ? Int(second - 0xD0) : nil
        }
        XCTAssertEqual(markers, (0..<20).map { $0 % 8 })
    }

    func testAnEmptyImageIsAnErrorNotAFile() {
        let empty = Plane(width: 0, height: 0)
        XCTAssertThrowsError(try encodeJPEG(YCbCrImage(y: empty, cb: empty, cr: empty), quality: 90, exifPayload: nil)) { error in
            XCTAssertEqual(error as? JPEGError, .unencodable("0×0: a JPEG's sides are 1 to 65500 pixels"))
        }
    }

    /// Taller than a JPEG may be, though each strip alone is not: an error, for any number of strips.
    func testAnImageTallerThanAJPEGIsAnError() {
        let tall = Plane(width: 8, height: 65536, value: 0.5)
        let image = YCbCrImage(y: tall, cb: tall, cr: tall)
        for strips in [1, 2] {
            XCTAssertThrowsError(try encodeJPEG(image, quality: 90, exifPayload: nil, strips: strips)) { error in
                XCTAssertEqual(error as? JPEGError, .unencodable("8×65536: a JPEG's sides are 1 to 65500 pixels"))
            }
        }
    }

    /// Noise, so that the entropy-coded data hold many 0xFF bytes and every sample value.
    private func noisyImage(_ size: Size, chroma: Size) -> YCbCrImage {
        var random = SeededRandom(seed: UInt64(size.pixelCount))
        func plane(_ size: Size) -> Plane {
            Plane(width: size.width, height: size.height, pixels: (0..<size.pixelCount).map { _ in Float.random(in: 0...1, using: &random) })
        }
        return YCbCrImage(y: plane(size), cb: plane(chroma), cr: plane(chroma))
    }
}
