import XCTest

@testable import HybridZoom

final class GaussianBlurTests: XCTestCase {
    func testAnImpulseSpreadsAsTheSampledGaussian() {
        var plane = Plane(width: 21, height: 15)
        plane[10, 7] = 1
        let blurred = gaussianBlur(plane, sigma: 1.5)
        let kernel = gaussianKernel(sigma: 1.5)
        XCTAssertEqual(blurred.pixels.reduce(0, +), 1, accuracy: 1e-5)
        for (dx, dy) in [(0, 0), (1, 0), (2, 3), (-3, -1)] {
            XCTAssertEqual(blurred[10 + dx, 7 + dy], kernel[kernel.count / 2 + dx] * kernel[kernel.count / 2 + dy], accuracy: 1e-6)
        }
    }

    func testEdgesRepeatSoAConstantStaysConstant() {
        let blurred = gaussianBlur(Plane(width: 9, height: 4, value: 0.7), sigma: 2.5)
        for value in blurred.pixels { XCTAssertEqual(value, 0.7, accuracy: 1e-5) }
    }

    func testWarpByAConstantFlowShiftsTheImage() {
        let plane = Plane(width: 8, height: 6, pixels: (0..<48).map { Float($0) })
        let shifted = warp(
            plane, dx: Plane(width: 8, height: 6, value: 1), dy: Plane(width: 8, height: 6, value: 2),
            interpolation: .bilinear)
        XCTAssertEqual(shifted[3, 1], plane[4, 3])
        XCTAssertEqual(shifted[7, 5], plane[7, 5], "reads past the border repeat the edge")
        let half = warp(plane, dx: Plane(width: 8, height: 6, value: 0.5), dy: Plane(width: 8, height: 6), interpolation: .bicubic)
        XCTAssertEqual(half[3, 2], (plane[3, 2] + plane[4, 2]) / 2, accuracy: 1e-4, "cubic reproduces a linear ramp")
    }
}
