import XCTest

@testable import HybridZoom

final class ColourMatchingTests: XCTestCase {
    /// T with another gain and offset per channel, displaced: matching brings its statistics
    /// back to the source's over the overlap.
    func testGainAndOffsetAreUndoneOverTheOverlap() {
        let size = Size(width: 120, height: 90), chroma = YCbCrImage.chroma420Size(for: size)
        let texture = DenseFlowTests.texture(size, seed: 4)
        let source = YCbCrImage(
            y: texture, cb: Plane(width: chroma.width, height: chroma.height, value: 0.45),
            cr: Plane(width: chroma.width, height: chroma.height, value: 0.58))
        var reference = source
        reference.y = FlowField(size: size, u: -6, v: 4).sample(texture)  // T sees x at x + (6, −4)
        reference.y.pixels = reference.y.pixels.map { $0 * 1.1 - 0.04 }
        reference.cb.pixels = reference.cb.pixels.map { $0 + 0.03 }
        let match = ColourMatch.estimate(
            source: source, reference: reference, mapping: .similarity(scale: 1, rotation: 0, translation: SIMD2(6, -4), about: .zero))
        let matched = YCbCrImage(
            y: match.apply(reference.y, channel: 0), cb: match.apply(reference.cb, channel: 1),
            cr: match.apply(reference.cr, channel: 2))
        XCTAssertEqual(match.gain[0], 1 / 1.1, accuracy: 0.01)
        for (a, b) in zip(
            matched.y.pixels[(20 * 120)..<(60 * 120)], FlowField(size: size, u: -6, v: 4).sample(texture).pixels[(20 * 120)..<(60 * 120)])
        {
            XCTAssertEqual(a, b, accuracy: 0.01)
        }
        XCTAssertEqual(matched.cb[10, 10], 0.45, accuracy: 1e-4)
        XCTAssertEqual(matched.cr[10, 10], 0.58, accuracy: 1e-4)
    }
}
