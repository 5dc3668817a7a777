import HZImageIO
import HybridZoom
import XCTest

final class OrientationTests: XCTestCase {
    /// Stored luma  1 2 3   and 4:2:0 chroma  7 8 (Cb), 9 10 (Cr).
    ///              4 5 6
    private let stored = CameraImage(
        y: BytePlane(width: 3, height: 2, pixels: [1, 2, 3, 4, 5, 6]),
        cb: BytePlane(width: 2, height: 1, pixels: [7, 8]),
        cr: BytePlane(width: 2, height: 1, pixels: [9, 10]))

    /// The upright image for each orientation, worked out by hand from the EXIF standard's
    /// description of where the stored 0th row and 0th column are displayed.
    func testAllEightOrientations() {
        let expectations: [(orientation: Int, luma: BytePlane, cb: BytePlane)] = [
            (1, BytePlane(width: 3, height: 2, pixels: [1, 2, 3, 4, 5, 6]), BytePlane(width: 2, height: 1, pixels: [7, 8])),
            (2, BytePlane(width: 3, height: 2, pixels: [3, 2, 1, 6, 5, 4]), BytePlane(width: 2, height: 1, pixels: [8, 7])),
            (3, BytePlane(width: 3, height: 2, pixels: [6, 5, 4, 3, 2, 1]), BytePlane(width: 2, height: 1, pixels: [8, 7])),
            (4, BytePlane(width: 3, height: 2, pixels: [4, 5, 6, 1, 2, 3]), BytePlane(width: 2, height: 1, pixels: [7, 8])),
            // 0th row on the left, 0th column at the top.
            (5, BytePlane(width: 2, height: 3, pixels: [1, 4, 2, 5, 3, 6]), BytePlane(width: 1, height: 2, pixels: [7, 8])),
            // 0th row on the right, 0th column at the top: turned 90° clockwise.
            (6, BytePlane(width: 2, height: 3, pixels: [4, 1, 5, 2, 6, 3]), BytePlane(width: 1, height: 2, pixels: [7, 8])),
            // 0th row on the right, 0th column at the bottom.
            (7, BytePlane(width: 2, height: 3, pixels: [6, 3, 5, 2, 4, 1]), BytePlane(width: 1, height: 2, pixels: [8, 7])),
            // 0th row on the left, 0th column at the bottom: turned 90° counter-clockwise.
            (8, BytePlane(width: 2, height: 3, pixels: [3, 6, 2, 5, 1, 4]), BytePlane(width: 1, height: 2, pixels: [8, 7])),
        ]
        for (orientation, luma, cb) in expectations {
            let upright = stored.oriented(exifOrientation: orientation)
            XCTAssertEqual(upright.y, luma, "orientation \(orientation)")
            XCTAssertEqual(upright.cb, cb, "orientation \(orientation)")
            XCTAssertEqual(upright.cr.pixels, cb.pixels.map { $0 + 2 }, "orientation \(orientation)")
            XCTAssertEqual(upright.cr.size, cb.size, "orientation \(orientation)")
        }
    }

    func testInvalidOrientationsLeaveTheImageAlone() {
        for orientation in [0, 9, -1] {
            XCTAssertEqual(stored.oriented(exifOrientation: orientation), stored)
        }
    }

    func testQuarterTurnsCompose() {
        let size = Size(width: 5, height: 3)
        let image = CameraImage(quantizing: smoothImage(size: size, chromaSize: YCbCrImage.chroma420Size(for: size)))
        let clockwise = { (image: CameraImage) in image.oriented(exifOrientation: 6) }
        XCTAssertEqual(clockwise(clockwise(image)), image.oriented(exifOrientation: 3))
        XCTAssertEqual(clockwise(clockwise(clockwise(clockwise(image)))), image)
        XCTAssertEqual(clockwise(image).oriented(exifOrientation: 8), image)
    }
}
