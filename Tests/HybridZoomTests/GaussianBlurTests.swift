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

    /// Averaging onto a grid 8 × coarser matches blurring at full size and then shrinking, on
    /// squared noise (what the maps average): no bias, and a spread between the two smaller than
    /// the window's own (a σ-6 window over squared white noise varies by √2 / (2√π · 6) = 6.6 %).
    func testAveragingOntoACoarseGridMatchesBlurringFirst() {
        var random = SeededRandom(seed: 4)
        let plane = Plane(width: 512, height: 384, pixels: (0..<(512 * 384)).map { _ in pow(random.gaussian(), 2) })
        let grid = Size(width: 64, height: 48)
        let reference = resample(gaussianBlur(plane, sigma: 6), from: plane.size.bounds, to: grid)
        let fast = averaged(plane, over: 6, onto: grid)
        let ratios: [Double] = reference.pixels.indices.map { i in Double(fast.pixels[i] / reference.pixels[i]) }
        let mean = ratios.reduce(0, +) / Double(ratios.count)
        let deviations: [Double] = ratios.map { ($0 - mean) * ($0 - mean) }
        let spread = (deviations.reduce(0, +) / Double(ratios.count)).squareRoot()
        XCTAssertEqual(mean, 1, accuracy: 0.01, "no bias")
        XCTAssertLessThan(spread, 0.05, "measured 0.038: less than either window's own sampling noise, 0.066")
        XCTAssertEqual(averaged(plane, over: 2, onto: plane.size).pixels, gaussianBlur(plane, sigma: 2).pixels)
    }

    /// The band's local energy made a few rows at a time is the one made from the whole band,
    /// sample for sample, on grids of several steps (the maps' 1/8 and 1/4, an uneven one) and
    /// band widths; and where the grid is the plane's own size, as before.
    func testBandEnergyInRowsEqualsTheWholeBands() {
        let plane = SyntheticPlanes.noisy(SyntheticPlanes.texture(Size(width: 403, height: 301), seed: 5), sigma: 0.01, seed: 6)
        let tall = SyntheticPlanes.texture(Size(width: 120, height: 1600), seed: 8)
        for (plane, grid, sigma, window) in [
            (plane, Size(width: 51, height: 38), 2.0, 4.0), (plane, Size(width: 101, height: 76), 1.0, 6.0),
            (plane, Size(width: 67, height: 29), 0.5, 3.0), (plane, plane.size, 1.0, 2.0),
            // Tall enough to be made in several parts, each with the rows its neighbour also needs.
            (tall, Size(width: 15, height: 200), 1.0, 4.0),
        ] {
            XCTAssertEqual(
                localEnergy(ofBandOf: plane, sigma: sigma, over: window, onto: grid).pixels,
                localEnergy(of: fineBand(plane, sigma: sigma), over: window, onto: grid).pixels, "\(grid), σ \(sigma)")
        }
    }

    /// Blocks' band, made alone, is the whole band's there: inside, and on each edge where the
    /// blur repeats the frame's edge samples.
    func testBlocksBandEqualsTheWholeBandsThere() {
        let plane = SyntheticPlanes.texture(Size(width: 70, height: 50), seed: 7)
        let whole = fineBand(plane, sigma: 2)
        let origins: [(x: Int, y: Int)] = [(16, 16), (0, 0), (54, 34), (0, 34), (54, 0)]
        XCTAssertEqual(
            fineBand(plane, sigma: 2, blocks: origins, side: 16),
            origins.flatMap { SyntheticPlanes.values(whole, columns: $0.x..<($0.x + 16), rows: $0.y..<($0.y + 16)) })
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
