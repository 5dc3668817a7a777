import XCTest

@testable import HybridZoom

final class ColourMatchingTests: XCTestCase {
    /// T's luma with another gain and offset, displaced: matching brings its statistics back
    /// to the source's over the overlap.
    func testGainAndOffsetAreUndoneOverTheOverlap() {
        let size = Size(width: 120, height: 90)
        let texture = DenseFlowTests.texture(size, seed: 4)
        let displaced = FlowField(size: size, u: -6, v: 4).sample(texture)  // T sees x at x + (6, −4)
        let reference = Plane(width: size.width, height: size.height, pixels: displaced.pixels.map { $0 * 1.1 - 0.04 })
        let match = ColourMatch.estimate(
            source: texture, reference: reference,
            mapping: .similarity(scale: 1, rotation: 0, translation: SIMD2(6, -4), about: .zero))
        XCTAssertEqual(match.gain, 1 / 1.1, accuracy: 0.01)
        let matched = match.apply(reference)
        for (a, b) in zip(matched.pixels[(20 * 120)..<(60 * 120)], displaced.pixels[(20 * 120)..<(60 * 120)]) {
            XCTAssertEqual(a, b, accuracy: 0.01)
        }
    }
}
