import HybridZoom
import XCTest

@testable import HZImageIO

final class PlaneSamplesTests: XCTestCase {
    /// The samples written eight at a time are those of the rule one at a time: × 255, + ½,
    /// truncated, clamped, NaN to 0; across the range, past it, at the rounding points, and in
    /// a row whose length is not a multiple of eight, repeated into the padding.
    func testEightBitSamplesFollowTheRoundingRule() {
        var values: [Float] = (-300...1300).map { Float($0) / 1000 }
        for level in 0...255 {
            let step = Float(level), halfway: Float = (step + 0.5) / 255
            values += [step / 255, halfway, halfway.nextDown]
        }
        values += [.nan, .infinity, -.infinity, .leastNonzeroMagnitude, -0.0]
        let width = 37, height = (values.count + width - 1) / width
        values += [Float](repeating: 0.3, count: width * height - values.count)
        let plane = Plane(width: width, height: height, pixels: values)
        let bufferSize = Size(width: width + 3, height: height + 2)
        var samples = [UInt8](repeating: 0, count: bufferSize.pixelCount)
        samples.withUnsafeMutableBufferPointer {
            plane.write8BitSamples(rows: 0..<bufferSize.height, into: $0.baseAddress!, rowLength: bufferSize.width)
        }

        func expected(_ value: Float) -> UInt8 {
            let scaled = value * 255 + 0.5
            return scaled >= 255 ? 255 : scaled > 0 ? UInt8(scaled) : 0
        }
        for y in 0..<bufferSize.height {
            for x in 0..<bufferSize.width {
                let value = plane[min(x, width - 1), min(y, height - 1)]
                XCTAssertEqual(samples[y * bufferSize.width + x], expected(value), "\(value) at (\(x), \(y))")
            }
        }
    }
}
