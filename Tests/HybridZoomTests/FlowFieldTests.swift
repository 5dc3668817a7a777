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
}

extension Plane {
    fileprivate func scaled(by factor: Float, offset: Float) -> Plane {
        Plane(width: width, height: height, pixels: pixels.map { $0 * factor + offset })
    }
}
