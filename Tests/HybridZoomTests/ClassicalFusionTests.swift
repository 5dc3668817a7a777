import XCTest

@testable import HybridZoom

final class ClassicalFusionTests: XCTestCase {
    private let size = Size(width: 96, height: 72)

    /// W is the scene blurred and a little too bright in T's eyes: the result has W's
    /// brightness and T's detail, so it lands closer to the sharp scene than either.
    func testDetailComesFromTAndBrightnessFromW() {
        let scene = DenseFlowTests.texture(size, seed: 7)
        let source = gaussianBlur(scene, sigma: 2)
        let reference = Plane(width: size.width, height: size.height, pixels: scene.pixels.map { $0 - 0.1 })
        let fused = ClassicalFusion(bandSplitSigma: 3).fuse(inputs(source, reference, occlusion: 0))
        XCTAssertLessThan(meanSquaredError(fused, scene), 0.3 * meanSquaredError(source, scene))
        XCTAssertEqual(mean(fused), mean(source), accuracy: 0.005, "brightness is W's")
    }

    /// Where T is occluded, nothing of it reaches the output.
    func testOccludedPixelsAreW() {
        let source = DenseFlowTests.texture(size, seed: 1), reference = DenseFlowTests.texture(size, seed: 2)
        let fused = ClassicalFusion(bandSplitSigma: 3).fuse(inputs(source, reference, occlusion: 1))
        for (a, b) in zip(fused.pixels, source.pixels) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testMasksAreUpsampledWithinTheUnitRange() {
        var mask = Plane(width: 8, height: 6)
        for y in 0..<6 { for x in 4..<8 { mask[x, y] = 1 } }
        let large = EnlargedMask(mask, to: Size(width: 32, height: 24)).plane
        XCTAssertEqual(large.pixels.min(), 0)
        XCTAssertEqual(large.pixels.max(), 1)
        XCTAssertEqual(large[2, 12], 0)
        XCTAssertEqual(large[30, 12], 1)
    }

    private func inputs(_ source: Plane, _ reference: Plane, occlusion: Float) -> FusionInputs {
        FusionInputs(source: source, reference: reference, occlusion: Plane(width: source.width, height: source.height, value: occlusion))
    }

    private func meanSquaredError(_ a: Plane, _ b: Plane) -> Float {
        zip(a.pixels, b.pixels).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Float(a.pixels.count)
    }

    private func mean(_ plane: Plane) -> Float { plane.pixels.reduce(0, +) / Float(plane.pixels.count) }

    /// With `Y_src` made as it is read, the detail is added a band of rows at a time, each made
    /// with the blur's reach: the held plane's result, to the bit, over several bands.
    func testMakingY_srcBandByBandChangesNothing() {
        let wide = BytePlane(quantizing: SyntheticPlanes.texture(Size(width: 300, height: 260), seed: 4))
        let view = TeleView(crop: Rect(x: 20.5, y: 11.25, width: 250, height: 236.5))
        let size = Size(width: 500, height: 3 * ClassicalFusion.madeSourceBand + 37)
        let made = SourceLuma(wide: wide, view: view, size: size, largestHeld: 0)
        XCTAssertTrue(made.isMadeAsRead)
        let held = SourceLuma(made.plane)
        let reference = DenseFlowTests.texture(size, seed: 9)
        let occlusion = EnlargedMask(Plane(width: 50, height: 81, value: 0.25), to: size)
        let fusion = ClassicalFusion(bandSplitSigma: 6)
        XCTAssertEqual(
            fusion.fuse(FusionInputs(source: made, reference: reference, occlusion: occlusion)),
            fusion.fuse(FusionInputs(source: held, reference: reference, occlusion: occlusion)))
    }
}
