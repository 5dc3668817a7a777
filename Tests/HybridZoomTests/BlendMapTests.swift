import XCTest

@testable import HybridZoom

final class BlendMapTests: XCTestCase {
    func testRegistryFindsEveryMapByName() {
        XCTAssertEqual(BlendMaps.names, ["defocus", "occlusion", "uncertainty", "rejection", "flat", "defocus-parallax"])
        XCTAssertTrue(BlendMaps.named("rejection") is RejectionMap)
        XCTAssertEqual(BlendMaps.named("defocus")?.name, DefocusMap.name)
        XCTAssertNil(BlendMaps.named("sharpness"))
    }

    func testEveryMapTrustsTAWhereItMatchesW() {
        let inputs = SyntheticPlanes.cleanInputs(Size(width: 64, height: 48))
        for map in BlendMaps.all {
            let values = map.map(inputs)
            XCTAssertEqual(values.size, inputs.mapSize, map.name)
            XCTAssertLessThan(values.pixels.max()!, 0.01, map.name)
        }
    }

    // MARK: Occlusion

    /// Where T's backward flow does not lead back (T shows something else there), the
    /// forward–backward check flags the W pixels that look into it.
    func testForwardBackwardMismatchIsFlagged() {
        let size = Size(width: 64, height: 48)
        let forward = FlowField(size: size, u: 3, v: -2)
        var backward = FlowField(size: size, u: -3, v: 2)
        for y in 10..<20 { for x in 30..<45 { backward.u[x, y] = 4 } }
        var inputs = SyntheticPlanes.cleanInputs(size)
        inputs.forwardFlow = forward
        inputs.occlusion = occlusionMap(forward: forward, backward: backward, scale: AlignmentSettings().occlusionScale)
        let map = OcclusionMap().map(inputs)
        // W's pixel x looks at T's x + (3, −2).
        XCTAssertEqual(SyntheticPlanes.values(map, columns: 28..<41, rows: 13..<21).min(), 1)
        XCTAssertEqual(SyntheticPlanes.values(map, columns: 0..<20, rows: 0..<48).max(), 0)
    }

    func testOutsideTIsOccluded() {
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 32, height: 24))
        for y in 0..<24 { for x in 28..<32 { inputs.outsideReference[x, y] = 1 } }
        inputs.occlusion[5, 5] = 0.4
        let map = OcclusionMap().map(inputs)
        XCTAssertEqual(map[30, 10], 1)
        XCTAssertEqual(map[5, 5], 0.4)
        XCTAssertEqual(map[10, 10], 0)
    }

    // MARK: Defocus

    /// At r = 2, T blurred by 4 px (2 of W's) over a rectangle, and elsewhere darker by a third
    /// and noisy, as a vignetted T is: the blur is flagged, the rest is not.
    func testWhereTIsBlurrierThanWItIsFlaggedAndNowhereElse() {
        let size = Size(width: 256, height: 192)
        let texture = SyntheticPlanes.texture(size, seed: 3)
        var inputs = SyntheticPlanes.cleanInputs(size, mapSize: Size(width: 128, height: 96))
        inputs.zoomRatio = 2
        inputs.source = SourceLuma(SyntheticPlanes.noisy(gaussianBlur(texture, sigma: 1.2), sigma: 0.004, seed: 1))
        let blurred = gaussianBlur(texture, sigma: 4)
        var reference = texture
        for y in 0..<size.height {
            for x in 0..<size.width {
                reference[x, y] = (20..<110).contains(x) && (20..<90).contains(y) ? blurred[x, y] : 0.7 * texture[x, y] + 0.05
            }
        }
        inputs.warpedReference = SyntheticPlanes.noisy(reference, sigma: 0.004, seed: 2)
        let map = DefocusMap().map(inputs)
        XCTAssertGreaterThan(SyntheticPlanes.values(map, columns: 16..<50, rows: 16..<40).min()!, 0.9, "inside the blur")
        XCTAssertLessThan(SyntheticPlanes.values(map, columns: 64..<128, rows: 0..<96).max()!, 0.05, "sharp, if darker")
        XCTAssertLessThan(SyntheticPlanes.values(map, columns: 0..<128, rows: 56..<96).max()!, 0.05)
    }

    /// W sharpened harder than T lowers T's contrast over W's everywhere, in focus or not: that is
    /// the cameras' processing, not defocus. Nothing is flagged but the rectangle T shows blurred.
    func testProcessingThatSoftensTAllOverIsNotDefocus() {
        let size = Size(width: 256, height: 192)
        let texture = SyntheticPlanes.texture(size, seed: 3)
        var inputs = SyntheticPlanes.cleanInputs(size, mapSize: Size(width: 128, height: 96))
        inputs.zoomRatio = 2
        inputs.source = SourceLuma(texture)
        let blurred = gaussianBlur(texture, sigma: 4)
        var reference = texture
        for i in reference.pixels.indices { reference.pixels[i] = 0.5 + 0.8 * (texture.pixels[i] - 0.5) }
        for y in 40..<100 { for x in 40..<120 { reference[x, y] = 0.5 + 0.8 * (blurred[x, y] - 0.5) } }
        inputs.warpedReference = SyntheticPlanes.noisy(reference, sigma: 0.002, seed: 2)
        let map = DefocusMap().map(inputs)
        XCTAssertGreaterThan(SyntheticPlanes.values(map, columns: 26..<54, rows: 26..<44).min()!, 0.9, "inside the blur")
        // Below the blend's noise floor, the level up to which a map holds nothing back.
        let floor = BlendTuning.mapNoiseFloor
        XCTAssertLessThan(SyntheticPlanes.values(map, columns: 72..<128, rows: 0..<96).max()!, floor, "softer, not blurred")
        let uncorrected = DefocusMap(maximumProcessingGain: 1).map(inputs)
        XCTAssertGreaterThan(SyntheticPlanes.values(uncorrected, columns: 72..<128, rows: 0..<96).max()!, floor, "read as defocus")
    }

    /// Where W has no texture above its noise there is nothing to compare, so nothing is flagged
    /// however T looks.
    func testWithoutTextureInWNothingIsFlagged() {
        let size = Size(width: 128, height: 96)
        var inputs = SyntheticPlanes.cleanInputs(size)
        inputs.zoomRatio = 2
        inputs.source = SourceLuma(SyntheticPlanes.noisy(Plane(width: 128, height: 96, value: 0.4), sigma: 0.004, seed: 1))
        inputs.warpedReference = SyntheticPlanes.noisy(Plane(width: 128, height: 96, value: 0.4), sigma: 0.01, seed: 2)
        XCTAssertEqual(DefocusMap().map(inputs).pixels.max(), 0)
    }

    // MARK: Defocus from parallax

    /// Maps' grid at half the frame's resolution, so a flow of 1 grid pixel is 2 px: a region
    /// 3 grid px off the focus plane (6 px, 36 px² > γ = 16) is flagged, one 1.5 off (9 px²) is not.
    func testRegionOffTheFocusPlaneIsFlagged() {
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 128, height: 96), mapSize: Size(width: 64, height: 48))
        for y in 4..<16 {
            for x in 4..<20 { inputs.forwardFlow.u[x, y] += 3 }
            for x in 40..<60 { inputs.forwardFlow.u[x, y] += 1.5 }
        }
        let map = ParallaxDefocusMap().map(inputs)
        XCTAssertGreaterThan(map[10, 10], 0.99, "6 px from the focus plane")
        XCTAssertLessThan(map[50, 10], 0.01, "3 px from the focus plane")
        XCTAssertLessThan(map[32, 24], 0.01, "the focus plane itself")
    }

    /// The autofocus region holds the focus plane and, over a third of it, a nearer object: the
    /// largest cluster is the focus plane, and the object is flagged even inside the region.
    func testLargestClusterOfTheAutofocusRegionIsTheFocusPlane() {
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 64, height: 48))
        inputs.autofocusRegion = Rect(x: 0.25, y: 0.25, width: 0.5, height: 0.5)
        for y in 12..<36 { for x in 16..<27 { inputs.forwardFlow.u[x, y] += 5 } }  // 11 of 32 columns
        let map = ParallaxDefocusMap().map(inputs)
        XCTAssertGreaterThan(map[20, 20], 0.99)
        XCTAssertLessThan(map[40, 20], 0.01)
        XCTAssertEqual(focusParallax(inputs)!.x, 2, accuracy: 0.05)
    }

    /// The autofocus region is flat in T (a sky, and a mover's flat side moving 5 px), so its
    /// flow says nothing of where T focused: the textured rest of the frame picks the focus
    /// plane, and only the flat part far off it is flagged.
    func testAFlatAutofocusRegionLeavesTheFocusPlaneToTheFramesDetail() {
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 96, height: 48))
        inputs.autofocusRegion = Rect(x: 0.25, y: 0.25, width: 0.5, height: 0.5)
        for y in 8..<40 {
            for x in 20..<76 {
                inputs.warpedReference[x, y] = 0.5
                inputs.forwardFlow.u[x, y] += 5
            }
        }
        let focus = focusParallax(inputs)!
        XCTAssertEqual(focus.x, 2, accuracy: 0.05)
        let map = ParallaxDefocusMap().map(inputs)
        XCTAssertLessThan(map[8, 24], 0.01)
        XCTAssertGreaterThan(map[48, 24], 0.99)
        // The paper's rule, the region's largest cluster whatever T shows there, flags the texture.
        XCTAssertGreaterThan(ParallaxDefocusMap(flatRegion: 0).map(inputs)[8, 24], 0.99)
    }

    func testOccludedFlowDoesNotChooseTheFocusPlane() {
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 64, height: 48))
        inputs.autofocusRegion = Rect(x: 0.25, y: 0.25, width: 0.5, height: 0.5)
        for y in 12..<36 {
            for x in 16..<40 {  // three quarters of the region, hidden in T
                inputs.forwardFlow.u[x, y] += 7
                inputs.occlusion[x, y] = 1
            }
        }
        XCTAssertEqual(focusParallax(inputs)!.x, 2, accuracy: 0.05)
    }

    func testNoVisibleFlowFlagsNothing() {
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 32, height: 24))
        inputs.outsideReference = Plane(width: 32, height: 24, value: 1)
        XCTAssertNil(focusParallax(inputs))
        XCTAssertEqual(ParallaxDefocusMap().map(inputs).pixels.max(), 0)
    }

    /// T's lens bends the frame's edges 6 px further than W's (cubic in the distance from the
    /// centre), and the rig is turned 0.2° and scaled 0.5 % more than the coarse model says: none
    /// of it is depth, so sharp, aligned texture at the corners is not flagged; a near object's
    /// 6 px of parallax still is.
    /// On a maps' grid at half the frame's resolution, so that the fit's scale and the flow's
    /// are in grid pixels and γ in full-resolution ones.
    func testLensDistortionAndARigsResidualTurnAreNotDepth() {
        let grid = Size(width: 128, height: 96)
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 256, height: 192), mapSize: grid)
        for y in 0..<grid.height {
            for x in 0..<grid.width {
                let p = (SIMD2(Float(x), Float(y)) + 0.5 - SIMD2(64, 48)) / 64
                let turn = Float(0.2 * Double.pi / 180), scale: Float = 0.005
                let bend = 3 / 64 * (p * p).sum() * p  // 6 full-resolution pixels at the edges
                inputs.forwardFlow.u[x, y] += 64 * (bend.x + scale * p.x - turn * p.y)
                inputs.forwardFlow.v[x, y] += 64 * (bend.y + scale * p.y + turn * p.x)
            }
        }
        for y in 16..<32 { for x in 20..<36 { inputs.forwardFlow.u[x, y] += 3 } }  // 6 px of parallax
        let map = ParallaxDefocusMap().map(inputs)
        for (x, y) in [(2, 2), (125, 2), (2, 93), (125, 93), (64, 10)] {
            XCTAssertLessThan(map[x, y], 0.01, "(\(x), \(y)): the lenses, not depth")
        }
        XCTAssertGreaterThan(map[28, 24], 0.99, "the near object")
    }

    /// The focus plane's vectors spread a little (flow noise) and a compact object covers a
    /// third of the autofocus region: Lloyd's splits the plane in two clusters smaller than the
    /// object, and only counting clusters under 1 px apart as one keeps the plane the focus.
    func testAnEvenlySpreadFocusPlaneOutweighsACompactObject() {
        let plane = (0..<600).map { SIMD2<Float>(2 + 0.3 * Float($0 % 20) / 19, -1 + 0.3 * Float($0 / 20) / 29) }
        let object = [SIMD2<Float>](repeating: SIMD2(7, -1), count: 320)
        let kMeans = KMeans(points: plane + object, weights: [Float](repeating: 1, count: 920), clusters: 3)
        XCTAssertEqual(kMeans.largestClusterCentre(merging: 0).x, 7, accuracy: 1e-5)
        XCTAssertEqual(kMeans.largestClusterCentre(merging: 1).x, 2.15, accuracy: 0.01)
    }

    private func focusParallax(_ inputs: BlendInputs) -> SIMD2<Float>? {
        let detail = ParallaxDefocusMap.detail(inputs)
        return ParallaxDefocusMap().focusParallax(inputs, ParallaxDefocusMap.parallax(inputs, detail: detail), detail: detail)
    }

    // MARK: Flow uncertainty

    /// T all black: the gate measured noise, but T's fine band holds none to compare with, so
    /// there is no ratio to take (it was 0/0, and the NaN spread through the blend weight).
    func testAFlatnessMapWithoutNoiseInTheBandFlagsNothing() {
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 64, height: 48))
        inputs.warpedReference = Plane(width: 64, height: 48)
        inputs.teleNoise = 0.003
        XCTAssertEqual(FlatnessMap().map(inputs).pixels, [Float](repeating: 0, count: 64 * 48))
    }

    func testUncertaintyRisesLinearlyToTheLimitInFullResolutionPixels() {
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 64, height: 48), mapSize: Size(width: 32, height: 24))
        inputs.flowUncertainty[1, 1] = 1  // 2 px at full resolution
        inputs.flowUncertainty[2, 1] = 10
        let map = FlowUncertaintyMap(limit: 8).map(inputs)
        XCTAssertEqual(map[0, 0], 0)
        XCTAssertEqual(map[1, 1], 0.25, accuracy: 1e-6)
        XCTAssertEqual(map[2, 1], 1)
    }

    // MARK: Rejection

    /// T is aligned and differs from W only by noise, except in a patch where it is 3 px off:
    /// the patch is rejected, the rest is not.
    func testMisalignedPatchIsRejectedAndNoiseIsNot() {
        let size = Size(width: 128, height: 96)
        let scene = SyntheticPlanes.texture(size, seed: 5)
        let shifted = FlowField(size: size, u: 3, v: 0).sample(scene)
        var tele = SyntheticPlanes.noisy(scene, sigma: 0.005, seed: 6)
        for y in 30..<60 { for x in 40..<80 { tele[x, y] = shifted[x, y] } }
        var inputs = SyntheticPlanes.cleanInputs(size)
        inputs.source = SourceLuma(SyntheticPlanes.noisy(SyntheticPlanes.wideView(scene), sigma: 0.005, seed: 7))
        inputs.warpedReference = tele
        let map = RejectionMap().map(inputs)
        let misaligned = SyntheticPlanes.values(map, columns: 44..<76, rows: 34..<56)
        let aligned = SyntheticPlanes.values(map, columns: 0..<128, rows: 70..<96)
        XCTAssertGreaterThan(Float(misaligned.filter { $0 >= 0.5 }.count) / Float(misaligned.count), 0.95)
        XCTAssertGreaterThan(misaligned.reduce(0, +) / Float(misaligned.count), 0.8)
        XCTAssertLessThan(aligned.max()!, 0.1)
    }

    /// At r = 2 the map works at W's resolution, half I_src's, and comes back on the maps' grid.
    func testRejectionWorksAtWidesResolution() {
        let map = RejectionMap()
        XCTAssertEqual(map.workingSize(Size(width: 4032, height: 3024), nativeWidth: 2016), Size(width: 1024, height: 768))
        XCTAssertEqual(map.workingSize(Size(width: 400, height: 300), nativeWidth: 200), Size(width: 200, height: 150))
        var inputs = SyntheticPlanes.cleanInputs(Size(width: 128, height: 96), mapSize: Size(width: 64, height: 48))
        inputs.zoomRatio = 2
        XCTAssertEqual(map.map(inputs).size, Size(width: 64, height: 48))
    }
}
