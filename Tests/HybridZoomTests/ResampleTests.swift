import XCTest

@testable import HybridZoom

final class ResampleTests: XCTestCase {
    func testSameSizeIsIdentity() {
        let plane = Plane(width: 7, height: 5, pixels: (0..<35).map { Float(($0 * 37) % 11) / 11 })
        let result = resample(plane, from: Rect(x: 0, y: 0, width: 7, height: 5), to: plane.size)
        for (a, b) in zip(result.pixels, plane.pixels) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    /// The passes read each row padded with its edge and sum four taps at a time; the result
    /// must be the taps' own definition, samples clamped to the plane, also for rectangles that
    /// reach past the plane's edges.
    func testPassesMatchTheTapsWithEdgesRepeated() {
        var random = SeededRandom(seed: 7)
        let plane = Plane(width: 23, height: 47, pixels: (0..<(23 * 47)).map { _ in Float.random(in: 0...1, using: &random) })
        let cases: [(Rect, Size, Interpolation)] = [
            // Shrinking in more than one band of output rows.
            (Rect(x: 0, y: 0.5, width: 23, height: 46), Size(width: 9, height: 35), .bicubic),
            (Rect(x: -3.5, y: -2, width: 30, height: 22), Size(width: 61, height: 9), .bicubic),
            (Rect(x: 4, y: 1.25, width: 23, height: 17), Size(width: 5, height: 40), .bicubic),
            (Rect(x: 0, y: 0, width: 23, height: 17), Size(width: 50, height: 31), .bilinear),
            (Rect(x: 2, y: -1, width: 21, height: 19), Size(width: 3, height: 4), .bilinear),
        ]
        for (rect, size, interpolation) in cases {
            let result = resample(plane, from: rect, to: size, interpolation: interpolation)
            let columns = ResamplingTaps(
                sourceStart: rect.x, sourceLength: rect.width, sourceCount: plane.width, outputCount: size.width, kernel: interpolation)
            let rows = ResamplingTaps(
                sourceStart: rect.y, sourceLength: rect.height, sourceCount: plane.height, outputCount: size.height, kernel: interpolation)
            for y in 0..<size.height {
                for x in 0..<size.width {
                    var expected: Float = 0
                    for j in (y * rows.count)..<((y + 1) * rows.count) {
                        for i in (x * columns.count)..<((x + 1) * columns.count) {
                            expected += rows.weights[j] * columns.weights[i] * plane[Int(columns.indices[i]), Int(rows.indices[j])]
                        }
                    }
                    XCTAssertEqual(result[x, y], expected, accuracy: 1e-5, "\(rect) → \(size) at (\(x), \(y))")
                }
            }
        }
    }

    /// A row summed eight outputs at a time is each output's taps summed in turn, to the bit.
    func testGroupedRowSumsAreTheTapSums() {
        var random = SeededRandom(seed: 5)
        let row = (0..<53).map { _ in Float.random(in: -1...1, using: &random) }
        for (length, outputs, kernel) in [(53.0, 21, Interpolation.bicubic), (40.5, 117, .bicubic), (53, 7, .bilinear), (20, 131, .bilinear)] {
            let taps = ResamplingTaps(sourceStart: 1.5, sourceLength: length, sourceCount: row.count, outputCount: outputs, kernel: kernel)
            var output = [Float](repeating: .nan, count: outputs)
            var padded = [Float](repeating: 0, count: taps.reachBefore + row.count + taps.reachAfter)
            padded.withUnsafeMutableBufferPointer { padded in
                RowResampler(taps).resampleRow(row, width: row.count, padded: padded.baseAddress!, into: &output)
            }
            for x in 0..<outputs {
                var expected: Float = 0
                for tap in (x * taps.count)..<((x + 1) * taps.count) { expected += taps.weights[tap] * row[Int(taps.indices[tap])] }
                XCTAssertEqual(output[x], expected, "\(length) → \(outputs), output \(x)")
            }
        }
    }

    func testConstantStaysConstantAtAnyScale() {
        let plane = Plane(width: 40, height: 30, value: 0.25)
        for size in [Size(width: 97, height: 13), Size(width: 9, height: 71), Size(width: 3, height: 2)] {
            let result = resample(plane, from: Rect(x: 3.3, y: 1.7, width: 30, height: 20), to: size)
            XCTAssertEqual(result.size, size)
            for value in result.pixels { XCTAssertEqual(value, 0.25, accuracy: 1e-6) }
        }
    }

    /// Catmull-Rom reproduces linear functions exactly, so enlarging a ramp by 2.5× gives the
    /// ramp sampled at the output pixel centres (away from the replicated edges).
    func testEnlargingARampReproducesIt() {
        let plane = Plane(width: 64, height: 8, pixels: (0..<(64 * 8)).map { Float($0 % 64) / 64 })
        let result = resample(
            plane, from: Rect(x: 16, y: 0, width: 32, height: 8),
            to: Size(width: 80, height: 20))
        for x in 0..<80 {
            let expected = Float((16 + (Double(x) + 0.5) * 32 / 80 - 0.5) / 64)
            XCTAssertEqual(result[x, 10], expected, accuracy: 1e-5, "column \(x)")
        }
    }

    /// Shrinking stretches the kernel: a one-pixel checkerboard averages to grey instead of
    /// aliasing into stripes.
    func testShrinkingLowPasses() {
        let plane = Plane(width: 64, height: 64, pixels: (0..<4096).map { Float((($0 % 64) + $0 / 64) % 2) })
        let result = resample(
            plane, from: Rect(x: 0, y: 0, width: 64, height: 64),
            to: Size(width: 16, height: 16))
        for y in 2..<14 { for x in 2..<14 { XCTAssertEqual(result[x, y], 0.5, accuracy: 0.02) } }
    }

    /// A mask enlarged row by row, over any columns, is the whole-plane resample clamped to
    /// [0, 1], to the bit; one of the output's size is read as it is, unclamped.
    func testEnlargedMaskRowsAreTheResampledMask() {
        var random = SeededRandom(seed: 11)
        let mask = Plane(width: 13, height: 9, pixels: (0..<(13 * 9)).map { _ in Float.random(in: 0...1, using: &random).rounded() })
        let size = Size(width: 50, height: 37)
        var expected = resample(mask, from: mask.size.bounds, to: size)
        XCTAssertTrue(expected.pixels.contains { $0 < 0 || $0 > 1 }, "the cubic overshoots, so the clamp is tested")
        expected.clampToUnitRange()
        let enlarged = EnlargedMask(mask, to: size)
        XCTAssertEqual(enlarged.plane, expected)
        var row = [Float](repeating: -1, count: 23)
        for y in [0, 18, 36] {
            row.withUnsafeMutableBufferPointer { enlarged.row(y, columns: 7..<30, into: $0.baseAddress!) }
            XCTAssertEqual(row, Array(expected.pixels[(y * 50 + 7)..<(y * 50 + 30)]), "row \(y)")
        }
        let outOfRange = Plane(width: 3, height: 2, pixels: [-0.5, 0, 0.5, 1, 1.5, 2])
        XCTAssertEqual(EnlargedMask(outOfRange, to: outOfRange.size).plane, outOfRange)
    }
}
