import Foundation
import HybridZoom
import XCTest

final class VisualizationTests: XCTestCase {
    /// Pixel `index` of a 4:4:4 image back in RGB (BT.601 full range), and its HSV hue in degrees.
    private func rgb(_ image: YCbCrImage, _ index: Int) -> (r: Float, g: Float, b: Float) {
        let (y, cb, cr) = (image.y.pixels[index], image.cb.pixels[index] - 0.5, image.cr.pixels[index] - 0.5)
        return (y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb)
    }

    private func hue(_ c: (r: Float, g: Float, b: Float)) -> Double {
        let degrees = atan2(sqrt(3) * Double(c.g - c.b), Double(2 * c.r - c.g - c.b)) * 180 / .pi
        return degrees < 0 ? degrees + 360 : degrees
    }

    private func row(_ values: [Float]) -> Plane { Plane(width: values.count, height: 1, pixels: values) }

    func testGrayImageKeepsLumaWithNeutralChroma() {
        let plane = Plane(width: 5, height: 3, pixels: (0..<15).map { Float($0) / 15 })
        let image = grayImage(plane)
        XCTAssertEqual(image.y, plane)
        XCTAssertEqual(image.cb.size, Size(width: 3, height: 2))
        XCTAssertEqual(image.cb, Plane(width: 3, height: 2, value: 0.5))
        XCTAssertEqual(image.cr, image.cb)
    }

    func testDifferenceImageCentresOnMidGreyAndClips() {
        let image = differenceImage(row([0.5, 0.6, 0.4, 1]), row([0.5, 0.5, 0.5, 0]), gain: 2)
        assertEqual(image.y.pixels, [0.5, 0.7, 0.3, 1], accuracy: 1e-6)
    }

    func testHeatRampRunsFromDarkBlueToYellowGettingBrighter() {
        let image = heatImage(row([-1, 0, 0.25, 0.5, 0.75, 1, 2]), range: 0...1)
        let luma = image.y.pixels
        XCTAssertEqual(luma[0], luma[1], "below the range holds the first colour")
        XCTAssertEqual(luma[6], luma[5], "above the range holds the last colour")
        for index in 2...5 { XCTAssertGreaterThan(luma[index], luma[index - 1]) }
        let low = rgb(image, 1), high = rgb(image, 5)
        XCTAssertGreaterThan(low.b, low.g, "the low end is blue-violet")
        XCTAssertGreaterThan(high.r, 0.9, "the high end is yellow")
        XCTAssertGreaterThan(high.g, 0.85)
        XCTAssertLessThan(high.b, 0.2)
    }

    func testFlowRightIsRedAndZeroIsWhite() {
        let image = flowImage(u: row([4, 0]), v: row([0, 0]), maxMagnitude: 4)
        let right = rgb(image, 0), still = rgb(image, 1)
        XCTAssertEqual(right.r, 1, accuracy: 1e-4)
        XCTAssertEqual(right.g, 0, accuracy: 1e-4)
        XCTAssertEqual(right.b, 0, accuracy: 1e-4)
        assertEqual([still.r, still.g, still.b], [1, 1, 1], accuracy: 1e-4)
    }

    /// Turning clockwise on screen (y down) goes round the wheel: right red, down yellow,
    /// left cyan, up blue-violet.
    func testFlowHueFollowsTheDirection() {
        let image = flowImage(u: row([1, 0, -1, 0]), v: row([0, 1, 0, -1]))
        let hues = (0..<4).map { hue(rgb(image, $0)) }
        XCTAssertEqual(hues[0], 0, accuracy: 1)
        XCTAssertEqual(hues[1], 55, accuracy: 5, "down is orange-yellow")
        XCTAssertEqual(hues[2], 192, accuracy: 5, "left is cyan-blue")
        XCTAssertEqual(hues[3], 264, accuracy: 5, "up is blue-violet")
        XCTAssertEqual(hues, hues.sorted())
    }

    /// Without a maximum the field's largest vector is fully saturated; shorter ones are paler.
    func testFlowSaturationFollowsMagnitude() {
        let image = flowImage(u: row([2, 1, 8]), v: row([0, 0, 0]), maxMagnitude: nil)
        let eighth = rgb(image, 1), full = rgb(image, 2)
        XCTAssertEqual(full.g, 0, accuracy: 1e-4)
        XCTAssertEqual(eighth.g, 0.875, accuracy: 1e-4, "1/8 of the maximum: mostly white")
        XCTAssertEqual(rgb(flowImage(u: row([2, 1]), v: row([0, 0]), maxMagnitude: 2), 1).g, 0.5, accuracy: 1e-4)
    }
}

private func assertEqual(
    _ a: [Float], _ b: [Float], accuracy: Float, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, message, file: file, line: line) }
}
