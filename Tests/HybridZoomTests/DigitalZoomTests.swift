import XCTest

@testable import HybridZoom

final class DigitalZoomTests: XCTestCase {
    func testTeleZoomCropIsTheTeleFieldOfView() {
        let rig = RigCalibration(zoomRatio: 2, centerOffset: (0.05, -0.1))
        let crop = DigitalZoom.cropRect(
            wide: Size(width: 4000, height: 3000), calibration: rig,
            zoom: 2, outputSize: Size(width: 4000, height: 3000))
        XCTAssertEqual(crop, Rect(x: 1200, y: 450, width: 2000, height: 1500))
    }

    func testCropSlidesInsideTheWideFrame() {
        let rig = RigCalibration(zoomRatio: 3, centerOffset: (0.45, 0.45))
        let crop = DigitalZoom.cropRect(
            wide: Size(width: 300, height: 200), calibration: rig,
            zoom: 3, outputSize: Size(width: 300, height: 200))
        XCTAssertEqual(crop.x + crop.width, 300, accuracy: 1e-9)
        XCTAssertEqual(crop.y + crop.height, 200, accuracy: 1e-9)
    }

    func testZoomOneShowsTheWholeWideFrame() {
        let crop = DigitalZoom.cropRect(
            wide: Size(width: 400, height: 300),
            calibration: RigCalibration(zoomRatio: 4, centerOffset: (0.1, 0.1)),
            zoom: 1, outputSize: Size(width: 800, height: 600))
        XCTAssertEqual(crop, Rect(x: 0, y: 0, width: 400, height: 300))
    }

    /// A portrait output from a landscape W: W's whole height, as much width as the output's
    /// shape allows, centred on T's view; never stretched.
    func testAnOutputTallerThanWKeepsItsShape() {
        let wide = Size(width: 4032, height: 3024), rig = RigCalibration(zoomRatio: 2)
        for zoom in [1.0, 2] {
            let crop = DigitalZoom.cropRect(wide: wide, calibration: rig, zoom: zoom, outputSize: Size(width: 1000, height: 2000))
            XCTAssertEqual(crop, Rect(x: 1260, y: 0, width: 1512, height: 3024), "zoom \(zoom)")
        }
    }

    func testRenderGives420ChromaAndKeepsColour() {
        let wide = YCbCrImage(
            y: Plane(width: 41, height: 31, value: 0.6),
            cb: Plane(width: 21, height: 16, value: 0.3),
            cr: Plane(width: 21, height: 16, value: 0.7))
        let crop = Rect(x: 10, y: 8, width: 20, height: 15)
        let zoomed = DigitalZoom.render(wide, crop: crop, to: Size(width: 63, height: 47))
        XCTAssertEqual(zoomed.size, Size(width: 63, height: 47))
        XCTAssertEqual(zoomed.cb.size, Size(width: 32, height: 24))
        XCTAssertEqual(zoomed.cb[5, 5], 0.3, accuracy: 1e-5)
        XCTAssertEqual(zoomed.cr[31, 23], 0.7, accuracy: 1e-5)
        XCTAssertEqual(zoomed.y[62, 46], 0.6, accuracy: 1e-5)
    }
}
