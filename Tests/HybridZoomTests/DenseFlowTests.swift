import HZHarness
import HybridZoom
import XCTest

@testable import HybridZoom

final class DenseFlowTests: XCTestCase {
    /// A textured, non-periodic scene: blurred random noise (structure at several scales).
    static func texture(_ size: Size, seed: UInt64 = 1) -> Plane {
        var random = SeededRandom(seed: seed)
        let noise = Plane(width: size.width, height: size.height, pixels: (0..<size.pixelCount).map { _ in random.unit() })
        let fine = gaussianBlur(noise, sigma: 1.2), coarse = gaussianBlur(noise, sigma: 4)
        return Plane(
            width: size.width, height: size.height,
            pixels: zip(fine.pixels, coarse.pixels).map { 0.5 + 2 * ($0 - 0.5) + 6 * ($1 - 0.5) })
    }

    /// A smooth flow field: a translation plus a slow wave, like parallax over a depth map.
    static func smoothFlow(_ size: Size) -> FlowField {
        var flow = FlowField(size: size)
        for y in 0..<size.height {
            for x in 0..<size.width {
                flow.u[x, y] = 2.3 + 1.5 * sin(Float(x) / 40) * cos(Float(y) / 55)
                flow.v[x, y] = -1.1 + 0.8 * cos(Float(x) / 60)
            }
        }
        return flow
    }

    func testASmoothFlowIsRecovered() {
        let size = Size(width: 256, height: 192)
        let reference = Self.texture(size)
        let truth = Self.smoothFlow(size)
        let source = truth.sample(reference)  // source(x) = reference(x + flow(x))
        let found = DenseFlow.compute(from: source, to: reference).flow
        let error = meanEndpointError(found, truth, margin: 10)
        XCTAssertLessThan(error, 0.15, "mean endpoint error \(error) px")
    }

    /// The patch search finds small parallax by itself, without the refinement, on a noisy frame
    /// whose source is softer than its reference (as W's crop is than T): each patch keeps what
    /// Gauss-Newton finds. A check of that result against the patch's start by SSD, which
    /// bilinear sampling biases (it averages the reference's noise and softens it towards the
    /// source), kept patches where the coarser level left them: 0.179 px here, 0.138 without.
    func testPatchesFollowTheFlowOnANoisyFrameWithoutRefinement() {
        let size = Size(width: 256, height: 192)
        let scene = Self.texture(size, seed: 4)
        var truth = FlowField(size: size)  // a translation and parallax of a few tenths of a pixel
        for y in 0..<size.height {
            for x in 0..<size.width {
                (truth.u[x, y], truth.v[x, y]) = (2.3 + 0.4 * sin(Float(x) / 20) * cos(Float(y) / 25), -1.1 + 0.4 * cos(Float(x) / 30))
            }
        }
        var random = SeededRandom(seed: 5)
        func noisy(_ plane: Plane) -> Plane {  // σ 0.02, on a scene of low contrast
            Plane(width: size.width, height: size.height, pixels: plane.pixels.map { 0.2 + 0.25 * $0 + 0.07 * (random.unit() - 0.5) })
        }
        let source = noisy(gaussianBlur(truth.sample(scene), sigma: 1)), reference = noisy(scene)
        var settings = DenseFlowSettings()
        settings.refine = false
        let error = meanEndpointError(DenseFlow.compute(from: source, to: reference, settings: settings).flow, truth, margin: 10)
        XCTAssertLessThan(error, 0.155, "mean endpoint error \(error) px")
    }

    /// Frames too small for the pyramid's levels, or for one patch, still get a flow of their
    /// own size: a translation where there is room for patches, an unknown one where there is not.
    func testTinyFramesGetAFlowOfTheirSize() {
        for size in [Size(width: 40, height: 30), Size(width: 6, height: 5)] {
            let reference = Self.texture(size, seed: 7)
            let result = DenseFlow.compute(from: FlowField(size: size, u: 1, v: 0).sample(reference), to: reference)
            XCTAssertEqual(result.flow.size, size)
            XCTAssertEqual(result.uncertainty.size, size)
            if size.width >= 8 {
                XCTAssertLessThan(meanEndpointError(result.flow, FlowField(size: size, u: 1, v: 0), margin: 8), 0.3, "\(size)")
            } else {
                XCTAssertEqual(result.uncertainty.pixels.min(), 6, "\(size): smaller than a patch, so S is the frame's size")
            }
        }
    }

    func testUncertaintyIsHigherWhereThereIsNothingToMatch() {
        let size = Size(width: 256, height: 192)
        let reference = Self.texture(size, seed: 2)
        var source = FlowField(size: size, u: 1.5, v: 0.5).sample(reference)
        for y in 60..<120 { for x in 80..<160 { source[x, y] = 0.5 } }  // a flat patch: no texture
        let result = DenseFlow.compute(from: source, to: reference)
        let flat = mean(result.uncertainty, x: 90..<150, y: 70..<110), textured = mean(result.uncertainty, x: 180..<240, y: 20..<60)
        XCTAssertGreaterThan(flat, 3 * textured, "flat \(flat) px, textured \(textured) px")
    }

    func testAPastedOccluderIsFlaggedByTheForwardBackwardCheck() {
        let size = Size(width: 256, height: 192)
        let scene = Self.texture(size, seed: 3)
        var reference = FlowField(size: size, u: -2, v: 1).sample(scene)
        let other = Self.texture(size, seed: 9)
        for y in 70..<130 { for x in 100..<160 { reference[x, y] = other[x, y] } }  // something only T sees
        let source = scene
        let forward = DenseFlow.compute(from: source, to: reference).flow
        let backward = DenseFlow.compute(from: reference, to: source).flow
        let occlusion = occlusionMap(forward: forward, backward: backward, scale: 1)
        // The source pixels whose scene point the occluder hides in T: x + (−2, 1) inside it.
        XCTAssertGreaterThan(mean(occlusion, x: 108..<156, y: 74..<124), 0.5)
        XCTAssertLessThan(mean(occlusion, x: 20..<80, y: 20..<60), 0.1)
    }

    private func meanEndpointError(_ a: FlowField, _ b: FlowField, margin: Int) -> Double {
        var sum = 0.0, count = 0.0
        for y in margin..<(a.size.height - margin) {
            for x in margin..<(a.size.width - margin) {
                let du = a.u[x, y] - b.u[x, y], dv = a.v[x, y] - b.v[x, y]
                sum += Double((du * du + dv * dv).squareRoot())
                count += 1
            }
        }
        return sum / count
    }

    private func mean(_ plane: Plane, x: Range<Int>, y: Range<Int>) -> Float {
        var sum: Float = 0
        for row in y { for column in x { sum += plane[column, row] } }
        return sum / Float(x.count * y.count)
    }
}
