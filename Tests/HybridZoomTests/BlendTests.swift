import XCTest

@testable import HybridZoom

final class BlendTests: XCTestCase {
    func testCleanInputsBlendFullyInsideAndNotAtTheBorder() {
        let weights = Blend.weights(SyntheticPlanes.cleanInputs(Size(width: 64, height: 48)))
        let weight = weights.weight
        XCTAssertEqual(Set(weights.maps.keys), Set(BlendMaps.all.map(\.name)))
        XCTAssertGreaterThan(SyntheticPlanes.values(weight, columns: 2..<62, rows: 2..<46).min()!, 0.99)
        for x in 0..<64 {
            XCTAssertEqual(weight[x, 0], 0)
            XCTAssertEqual(weight[x, 47], 0)
        }
        for y in 0..<48 {
            XCTAssertEqual(weight[0, y], 0)
            XCTAssertEqual(weight[63, y], 0)
        }
        XCTAssertEqual(weights.coverage, Double(weight.pixels.reduce(0, +)) / Double(64 * 48), accuracy: 1e-6)
    }

    /// Smoothing must not leak T into what a map rejected: the weight stays ≤ 0.1 over the whole
    /// flagged block, edges included, and is 0 inside it.
    func testWeightIsZeroWhereAMapIsOne() {
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 64, height: 48))
        for y in 10..<26 { for x in 20..<40 { inputs.occlusion[x, y] = 1 } }
        let weight = Blend.weights(inputs).weight
        XCTAssertLessThanOrEqual(SyntheticPlanes.values(weight, columns: 20..<40, rows: 10..<26).max()!, 0.1)
        XCTAssertEqual(weight[30, 18], 0)
        XCTAssertGreaterThan(weight[50, 40], 0.99)
    }

    /// The feather ramps from 0 where the flow leaves T (the right quarter) to 1 a feather's
    /// width inside T's view.
    func testWeightIsFeatheredFromWhereTEnds() {
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 64, height: 48))
        for y in 0..<48 { for x in 48..<64 { inputs.outsideReference[x, y] = 1 } }
        let weights = Blend.weights(inputs, settings: BlendSettings(featherWidth: 0.25))  // 16 px
        let weight = weights.weight
        XCTAssertEqual(SyntheticPlanes.values(weight, columns: 48..<64, rows: 0..<48).max(), 0)
        XCTAssertGreaterThan(weight[47 - 8, 24], 0.2)
        XCTAssertLessThan(weight[47 - 8, 24], 0.8)
        XCTAssertGreaterThan(weight[20, 24], 0.99)
        XCTAssertEqual(
            weights.coverage, Double(SyntheticPlanes.values(weight, columns: 0..<48, rows: 0..<48).reduce(0, +)) / Double(48 * 48),
            accuracy: 1e-6)
    }

    func testOnlyTheEnabledMapsCount() {
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 64, height: 48))
        for y in 2..<18 { for x in 2..<20 { inputs.forwardFlow.u[x, y] += 10 } }  // far off the focus plane
        let without = Blend.weights(inputs, settings: BlendSettings(maps: [OcclusionMap(), FlowUncertaintyMap()]))
        XCTAssertEqual(Set(without.maps.keys), ["occlusion", "uncertainty"])
        XCTAssertGreaterThan(without.weight[10, 10], 0.99)
        XCTAssertEqual(Blend.weights(inputs, settings: BlendSettings(maps: BlendMaps.all)).weight[10, 10], 0, "defocus-parallax")
    }

    /// T sees something W does not (a part of the scene from elsewhere pasted into T), through
    /// the real alignment: the maps together give it no weight.
    func testPastedOccluderGetsNoWeight() {
        let size = Size(width: 160, height: 120), shift: SIMD2<Float> = [3, -2]
        let scene = SyntheticPlanes.texture(size, seed: 3)
        // T(x + shift) shows W(x); a disc around (100, 50) of T shows the scene 40 px away.
        var tele = FlowField(size: size, u: -shift.x, v: -shift.y).sample(scene)
        let elsewhere = FlowField(size: size, u: -40, v: 25).sample(scene)
        for y in 0..<size.height {
            for x in 0..<size.width where (x - 100) * (x - 100) + (y - 50) * (y - 50) < 18 * 18 { tele[x, y] = elsewhere[x, y] }
        }
        let wide = SyntheticPlanes.wideView(scene)
        let alignment = Alignment.align(source: wide, reference: tele)
        let weight = Blend.weights(BlendInputs(source: wide, alignment: alignment, wideNoise: 0.002, zoomRatio: 1)).weight
        // W's pixels around (100, 50) − shift are hidden; the far corner is clean.
        let hidden = SyntheticPlanes.values(weight, columns: 87..<107, rows: 44..<60)
        XCTAssertGreaterThan(Float(hidden.filter { $0 <= 0.1 }.count) / Float(hidden.count), 0.9)
        XCTAssertGreaterThan(SyntheticPlanes.values(weight, columns: 10..<50, rows: 70..<110).min()!, 0.8)
    }

    // MARK: Compose

    func testComposeTakesSourceWhereTheWeightIsZeroAndFusionWhereOne() {
        let source = Plane(width: 40, height: 30, value: 0.2), fusion = Plane(width: 40, height: 30, value: 0.6)
        var weight = Plane(width: 10, height: 6)  // left half 0, right half 1, on a coarser grid
        for y in 0..<6 { for x in 5..<10 { weight[x, y] = 1 } }
        let composed = Blend.compose(fusion: fusion, source: source, weight: weight)
        for y in 0..<30 {
            for x in 0..<16 { XCTAssertEqual(composed[x, y], 0.2, accuracy: 1e-6) }
            for x in 24..<40 { XCTAssertEqual(composed[x, y], 0.6, accuracy: 1e-6) }
        }
        // Pixel 19's centre (19.5) is 3/8 of the way from grid column 4's centre (18) to column 5's (22).
        XCTAssertEqual(composed[19, 10], 0.2 + 0.375 * 0.4, accuracy: 1e-6)
        let quarter = Blend.compose(fusion: fusion, source: source, weight: Plane(width: 3, height: 2, value: 0.25))
        XCTAssertEqual(quarter[17, 13], 0.75 * 0.2 + 0.25 * 0.6, accuracy: 1e-6)
    }

    // MARK: Paste

    /// Pasting into a W digital zoom at a lower zoom than T's: the output changes only where
    /// fusion changed I_src, scaled into the placement; elsewhere it keeps W's own rendering.
    func testPasteAddsOnlyWhatFusionChanged() {
        let wide = Size(width: 200, height: 150), rig = RigCalibration(zoomRatio: 2)
        let output = Size(width: 100, height: 75)
        let crop = DigitalZoom.cropRect(wide: wide, calibration: rig, zoom: 1.25, outputSize: output)
        let teleView = DigitalZoom.cropRect(wide: wide, calibration: rig, zoom: 2, outputSize: Size(width: 80, height: 60))
        let placement = DigitalZoom.placement(of: teleView, in: crop, outputSize: output)
        XCTAssertEqual(placement, Rect(x: 18.75, y: 14.0625, width: 62.5, height: 46.875))

        let source = SyntheticPlanes.texture(Size(width: 80, height: 60), seed: 9)
        var composed = source
        for y in 20..<40 { for x in 30..<50 { composed[x, y] += 0.1 } }
        let before = SyntheticPlanes.texture(output, seed: 10)
        var after = before
        Blend.paste(Blend.change(from: source, to: composed), into: &after, at: placement)
        // I_src's (40, 30) lands at 18.75 + 40.5·62.5/80 − 0.5 ≈ 49.9: the middle of the change.
        XCTAssertEqual(after[50, 37] - before[50, 37], 0.1, accuracy: 1e-4)
        for (x, y) in [(10, 10), (19, 40), (85, 70), (30, 16)] { XCTAssertEqual(after[x, y], before[x, y], accuracy: 1e-6) }
    }

    func testPasteCutsOffWhatFallsOutsideTheOutput() {
        var output = Plane(width: 20, height: 20)
        let source = Plane(width: 10, height: 10), composed = Plane(width: 10, height: 10, value: 0.5)
        Blend.paste(Blend.change(from: source, to: composed), into: &output, at: Rect(x: 15, y: -5, width: 10, height: 10))
        XCTAssertEqual(output[17, 2], 0.5, accuracy: 1e-6)
        XCTAssertEqual(output[10, 2], 0)
        XCTAssertEqual(output[17, 8], 0)
    }

    // MARK: Feather

    func testFeatherIsZeroOnTheBorderAndOneAWidthInside() {
        let outside = Plane(width: 40, height: 30)
        let ramp = feather(outside: outside, width: 10)
        XCTAssertEqual(ramp[0, 15], 0)
        XCTAssertEqual(ramp[20, 29], 0)
        XCTAssertEqual(ramp[5, 15], 0.5, accuracy: 1e-6, "smoothstep's middle")
        XCTAssertEqual(ramp[20, 15], 1)
    }
}
