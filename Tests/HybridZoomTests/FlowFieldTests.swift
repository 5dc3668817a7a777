import XCTest

@testable import HybridZoom

final class FlowFieldTests: XCTestCase {
    /// Warping by a low-resolution flow enlarged on the fly reads what the enlarged flow reads.
    func testSamplingEnlargedMatchesTheResizedFlow() {
        let low = Size(width: 37, height: 23), full = Size(width: 150, height: 94)
        let flow = FlowField(
            u: DenseFlowTests.texture(low, seed: 3).scaled(by: 6, offset: -3),
            v: DenseFlowTests.texture(low, seed: 4).scaled(by: 6, offset: -3))
        let image = DenseFlowTests.texture(full, seed: 5)
        let expected = flow.resized(to: full, interpolation: .bilinear).sample(image)
        let sampled = flow.sample(image, enlargedTo: full)
        XCTAssertEqual(sampled.size, full)
        let largest = zip(sampled.pixels, expected.pixels).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(largest, 1e-4)
    }

    /// Eight samples read at once are the eight read one at a time, to the bit, inside the plane
    /// and where some lanes fall past its edges.
    func testEightWideBilinearIsTheScalarOne() {
        let image = DenseFlowTests.texture(Size(width: 40, height: 30), seed: 6)
        image.pixels.withUnsafeBufferPointer { pixels in
            let reader = PlaneReader(pixels: pixels, width: image.width, height: image.height)
            var random = SeededRandom(seed: 9)
            for range: ClosedRange<Float> in [2...36, -3...41] {
                for _ in 0..<200 {
                    let x = SIMD8<Float>((0..<8).map { _ in Float.random(in: range, using: &random) })
                    let y = SIMD8<Float>((0..<8).map { _ in Float.random(in: range.clamped(to: -3...31), using: &random) })
                    let eight = reader.bilinear(x, y)
                    for lane in 0..<8 { XCTAssertEqual(eight[lane], reader.bilinear(x[lane], y[lane])) }
                }
            }
        }
    }
}

extension Plane {
    fileprivate func scaled(by factor: Float, offset: Float) -> Plane {
        Plane(width: width, height: height, pixels: pixels.map { $0 * factor + offset })
    }
}
