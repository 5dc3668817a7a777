import Foundation
import HZHarness
import HybridZoom
import XCTest

final class ImageMetricsTests: XCTestCase {
    /// A deterministic texture in [0.2, 0.8] with detail at several scales.
    private func texture(width: Int = 96, height: Int = 80) -> Plane {
        var plane = Plane(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let detail = sin(Double(x) * 0.9) * cos(Double(y) * 1.3) + 0.5 * sin(Double(x + 2 * y) / 7)
                plane[x, y] = Float(0.5 + 0.2 * detail)
            }
        }
        return plane
    }

    private func offset(_ plane: Plane, by amount: Float) -> Plane {
        Plane(width: plane.width, height: plane.height, pixels: plane.pixels.map { $0 + amount })
    }

    /// A plane that is 1 for x in `columns` and 0 elsewhere.
    private func columnMask(_ size: Size, _ columns: Range<Int>) -> Plane {
        var mask = Plane(width: size.width, height: size.height)
        for y in 0..<size.height { for x in columns { mask[x, y] = 1 } }
        return mask
    }

    // MARK: PSNR

    func testConstantOffsetOfOneHundredthIs40dB() {
        let plane = texture()
        XCTAssertEqual(psnr(offset(plane, by: 0.01), plane), 40, accuracy: 1e-3)
    }

    func testIdenticalPlanesHaveInfinitePSNR() {
        XCTAssertEqual(psnr(texture(), texture()), .infinity)
    }

    func testPSNRIgnoresPixelsOutsideTheMask() {
        let plane = texture()
        var degraded = offset(plane, by: 0.01)
        for y in 0..<plane.height { for x in 0..<40 { degraded[x, y] = 1 - plane[x, y] } }
        let right = columnMask(plane.size, 40..<plane.width)
        XCTAssertEqual(psnr(degraded, plane, mask: right), 40, accuracy: 1e-3)
        XCTAssertLessThan(psnr(degraded, plane), 25)
    }

    /// Weights scale each pixel's error: half the weight on the pixels with twice the error.
    func testMaskWeightsArePartial() {
        let plane = Plane(width: 4, height: 1, value: 0.5)
        let degraded = Plane(width: 4, height: 1, pixels: [0.52, 0.52, 0.51, 0.51])
        let mask = Plane(width: 4, height: 1, pixels: [0.25, 0.25, 1, 1])
        // (0.5·0.02² + 2·0.01²) / 2.5 = 0.00016
        XCTAssertEqual(psnr(degraded, plane, mask: mask), 10 * log10(1 / 0.00016), accuracy: 1e-3)
    }

    func testAnEmptyMaskGivesNaN() {
        let plane = texture()
        XCTAssertTrue(psnr(plane, plane, mask: Plane(width: plane.width, height: plane.height)).isNaN)
    }

    // MARK: SSIM

    func testIdenticalPlanesHaveSSIMOne() {
        XCTAssertEqual(ssim(texture(), texture()), 1, accuracy: 1e-12)
    }

    func testSSIMFallsWithNoise() {
        let plane = texture()
        var random = SeededRandom(seed: 42)
        func noisy(_ amplitude: Float) -> Plane {
            Plane(
                width: plane.width, height: plane.height,
                pixels: plane.pixels.map { $0 + Float.random(in: -amplitude...amplitude, using: &random) })
        }
        let slight = ssim(noisy(0.05), plane), strong = ssim(noisy(0.2), plane)
        XCTAssertLessThan(slight, 0.97)
        XCTAssertLessThan(strong, slight - 0.2)
        XCTAssertGreaterThan(strong, 0)
    }

    /// A constant brightness offset keeps the structure: SSIM barely moves where PSNR drops to 40 dB.
    func testSSIMForgivesASmallBrightnessOffset() {
        let plane = texture()
        XCTAssertGreaterThan(ssim(offset(plane, by: 0.01), plane), 0.99)
    }

    /// The separable filtering gives the same map as windows summed pixel by pixel.
    func testSSIMMatchesADirectWindowComputation() {
        let reference = texture(width: 23, height: 19)
        var degraded = reference
        for index in degraded.pixels.indices { degraded.pixels[index] += Float(index % 7) * 0.01 - 0.03 }
        XCTAssertEqual(ssim(degraded, reference), directSSIM(degraded, reference), accuracy: 1e-5)
    }

    func testSSIMMaskSelectsWhereItIsMeasured() {
        let plane = texture()
        var degraded = plane
        for y in 0..<plane.height { for x in 0..<40 { degraded[x, y] = 0.5 } }
        // The window reaches 5 pixels, so the clean side is clean from column 45 on.
        let clean = columnMask(plane.size, 45..<plane.width)
        let damaged = columnMask(plane.size, 0..<40)
        XCTAssertEqual(ssim(degraded, plane, mask: clean), 1, accuracy: 1e-9)
        XCTAssertLessThan(ssim(degraded, plane, mask: damaged), 0.5)
        XCTAssertTrue(ssim(plane, plane, mask: Plane(width: plane.width, height: plane.height)).isNaN)
    }

    private func directSSIM(_ a: Plane, _ b: Plane) -> Double {
        let weights = (-5...5).map { exp(-Double($0 * $0) / 4.5) }
        let total = weights.reduce(0, +) * weights.reduce(0, +)
        var sum = 0.0, count = 0.0
        for y in 5..<(a.height - 5) {
            for x in 5..<(a.width - 5) {
                var (ma, mb, maa, mbb, mab) = (0.0, 0.0, 0.0, 0.0, 0.0)
                for dy in -5...5 {
                    for dx in -5...5 {
                        let w = weights[dx + 5] * weights[dy + 5] / total
                        let pa = Double(a[x + dx, y + dy]), pb = Double(b[x + dx, y + dy])
                        (ma, mb) = (ma + w * pa, mb + w * pb)
                        (maa, mbb, mab) = (maa + w * pa * pa, mbb + w * pb * pb, mab + w * pa * pb)
                    }
                }
                let (c1, c2) = (0.0001, 0.0009)
                sum +=
                    (2 * ma * mb + c1) * (2 * (mab - ma * mb) + c2)
                    / ((ma * ma + mb * mb + c1) * (maa - ma * ma + mbb - mb * mb + c2))
                count += 1
            }
        }
        return sum / count
    }

    // MARK: Tiles

    func testTilesCoverWholeTilesOnly() {
        let reference = texture(width: 140, height: 70)
        let scores = tilePSNRs(offset(reference, by: 0.01), reference, tile: 64)
        XCTAssertEqual(scores.map { [$0.x, $0.y] }, [[0, 0], [64, 0]])
        for score in scores { XCTAssertEqual(score.psnr, 40, accuracy: 1e-3) }
    }

    func testTilesNeedTheMinimumCoverage() {
        let reference = texture(width: 128, height: 64)
        // The second tile is 80% covered: columns 64..<115 of its 64.
        let mask = columnMask(reference.size, 0..<115)
        let degraded = offset(reference, by: 0.01)
        let strict = tilePSNRs(degraded, reference, tile: 64, mask: mask, minimumCoverage: 0.9)
        XCTAssertEqual(strict.map(\.x), [0])
        let lenient = tilePSNRs(degraded, reference, tile: 64, mask: mask, minimumCoverage: 0.75)
        XCTAssertEqual(lenient.map(\.x), [0, 64])
    }

    func testEachTileScoresItsOwnError() {
        let reference = texture(width: 128, height: 64)
        var degraded = offset(reference, by: 0.01)
        for y in 0..<64 { for x in 64..<128 { degraded[x, y] = reference[x, y] + 0.1 } }
        let scores = tilePSNRs(degraded, reference, tile: 64)
        XCTAssertEqual(scores.count, 2)
        XCTAssertEqual(scores[0].psnr, 40, accuracy: 1e-3)
        XCTAssertEqual(scores[1].psnr, 20, accuracy: 1e-3)
    }

    func testFractionWorseComparesTilesAtTheSamePlace() {
        let baseline = [
            TileScore(x: 0, y: 0, psnr: 40), TileScore(x: 64, y: 0, psnr: 35.2),
            TileScore(x: 0, y: 64, psnr: 31), TileScore(x: 64, y: 64, psnr: 20),
        ]
        let method = [
            TileScore(x: 0, y: 64, psnr: 30), TileScore(x: 0, y: 0, psnr: 41),
            TileScore(x: 64, y: 0, psnr: 35), TileScore(x: 128, y: 0, psnr: 10),
        ]
        // Matched: (0,0) better, (64,0) 0.2 dB worse, (0,64) 1 dB worse; (128,0) has no baseline.
        XCTAssertEqual(fractionWorse(method, than: baseline, byMoreThan: 0.3), 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(fractionWorse(method, than: baseline, byMoreThan: 0.1), 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(fractionWorse([], than: baseline, byMoreThan: 0.3), 0)
    }
}
