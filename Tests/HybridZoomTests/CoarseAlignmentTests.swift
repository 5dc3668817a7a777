import HZHarness
import HZTestSupport
import HybridZoom
import XCTest

@testable import HybridZoom

final class CoarseAlignmentTests: XCTestCase {
    private let frame = Size(width: 800, height: 600)

    func testRecoversASubPixelTranslation() {
        let pair = CameraPair(frame: frame, translation: SIMD2(37.4, -21.7))
        let result = CoarseAligner().align(source: pair.source, reference: pair.reference)
        assertRecovers(pair.translation, result, within: 0.15)
    }

    func testRecoversAnIntegerTranslation() {
        let pair = CameraPair(frame: frame, translation: SIMD2(-12, 9))
        let result = CoarseAligner().align(source: pair.source, reference: pair.reference)
        assertRecovers(pair.translation, result, within: 0.15)
    }

    /// The search reaches 6 % of the width (150 px at 12 MP, with room to spare) either way in x
    /// and in y.
    func testRecoversTheLargestOffsets() {
        let reach = 0.06 * Double(frame.width)
        for direction in [SIMD2(1.0, -1.0), SIMD2(-1, 1)] {
            let pair = CameraPair(frame: frame, translation: direction * reach + SIMD2(0.3, -0.2))
            let result = CoarseAligner().align(source: pair.source, reference: pair.reference)
            assertRecovers(pair.translation, result, within: 0.15)
        }
    }

    /// Working below the input's resolution: offsets come back in full-resolution pixels.
    func testWorkingWidthBelowTheInputScalesTheTranslationBack() {
        let pair = CameraPair(frame: frame, translation: SIMD2(-23.6, 14.2))
        let result = CoarseAligner(workingWidth: 400).align(source: pair.source, reference: pair.reference)
        assertRecovers(pair.translation, result, within: 0.3)
    }

    /// Something in front of T that W does not see (here a flat slab over 10 % of the frame):
    /// its corners match nothing, so the estimate stays put.
    func testAnOccluderDoesNotMoveTheEstimate() {
        var pair = CameraPair(frame: frame, translation: SIMD2(19.3, 27.8))
        let clear = CoarseAligner().align(source: pair.source, reference: pair.reference)
        for y in 200..<390 { for x in 300..<550 { pair.reference[x, y] = 0.8 } }
        let occluded = CoarseAligner().align(source: pair.source, reference: pair.reference)
        XCTAssertTrue(occluded.isReliable)
        XCTAssertEqual(occluded.translation.x, clear.translation.x, accuracy: 0.2)
        XCTAssertEqual(occluded.translation.y, clear.translation.y, accuracy: 0.2)
        assertRecovers(pair.translation, occluded, within: 0.15)
    }

    /// A flat pair, a flat pair under independent noise, and independent speckle: no corners, or
    /// corners that correlate with nothing.
    func testAFeaturelessPairIsUnreliable() {
        var random = SeededRandom(seed: 7)
        let flat = Plane(width: 320, height: 240, value: 0.5)
        func grey() -> Plane { addingNoise(flat, sigma: 0.01, random: &random) }
        func speckle() -> Plane {
            Plane(width: flat.width, height: flat.height, pixels: flat.pixels.map { _ in Float.random(in: 0...1, using: &random) })
        }
        for (name, source, reference) in [("flat", flat, flat), ("grey", grey(), grey()), ("speckle", speckle(), speckle())] {
            let result = CoarseAligner().align(source: source, reference: reference)
            XCTAssertFalse(result.isReliable, "\(name): \(result)")
        }
    }

    /// A dusk scene: the same pair with its contrast (and noise) cut to an eighth, so that too
    /// few corners pass the brightness step to match (3 matches, none fitting); the lowered step
    /// finds enough of them.
    func testALowContrastSceneIsAlignedWithFainterCorners() {
        let pair = CameraPair(frame: frame, translation: SIMD2(-17.3, 11.6))
        func dimmed(_ plane: Plane) -> Plane {
            Plane(width: plane.width, height: plane.height, pixels: plane.pixels.map { 0.3 + 0.12 * ($0 - 0.5) })
        }
        let result = CoarseAligner().align(source: dimmed(pair.source), reference: dimmed(pair.reference))
        XCTAssertTrue(result.isReliable, "\(result)")
        assertRecovers(pair.translation, result, within: 0.3)
    }

    /// W and T of different scenes (a mispaired capture): matches happen, but they agree on nothing.
    func testUnrelatedScenesAreUnreliable() {
        let scene = CameraPair(frame: frame, translation: .zero, seed: 1)
        let other = CameraPair(frame: frame, translation: .zero, seed: 2)
        let result = CoarseAligner().align(source: scene.source, reference: other.reference)
        XCTAssertFalse(result.isReliable, "\(result)")
        XCTAssertLessThan(result.inliers, 12, "\(result)")
    }

    /// A rig's T turned by 0.8° and scaled by 1.8 % against its calibration, besides the offset:
    /// the similarity comes back, and the translation is the displacement at the centre.
    func testRecoversRotationAndScale() {
        let centre = SIMD2(Double(frame.width), Double(frame.height)) / 2
        let truth = Homography.similarity(scale: 1.018, rotation: 0.8 * .pi / 180, translation: SIMD2(21.3, -12.6), about: centre)
        let pair = CameraPair(frame: frame, mapping: truth)
        let result = CoarseAligner().align(source: pair.source, reference: pair.reference)
        assertRecovers(SIMD2(21.3, -12.6), result, within: 0.3)
        XCTAssertEqual(result.scale, 1.018, accuracy: 0.001, "\(result)")
        XCTAssertEqual(result.rotation, 0.8, accuracy: 0.03, "\(result)")
        assertMapsLike(truth, result.transform, within: 0.5)
    }

    /// A macro shot: texture only in a patch a fifth of the frame across, flat grey around it.
    /// The matches pin no turn or scale there, so the model falls back to their translation,
    /// reliable, and the flow takes the rest.
    func testTextureInOneSmallPatchGivesATranslation() {
        var pair = CameraPair(frame: frame, translation: SIMD2(14.6, -9.2))
        for plane in [\CameraPair.source, \CameraPair.reference] {
            for y in 0..<frame.height {
                for x in 0..<frame.width where !(320..<480).contains(x) || !(240..<360).contains(y) { pair[keyPath: plane][x, y] = 0.5 }
            }
        }
        let result = CoarseAligner().align(source: pair.source, reference: pair.reference)
        XCTAssertEqual(result.model, .translation, "\(result)")
        XCTAssertTrue(result.isReliable, "\(result)")
        XCTAssertEqual(result.translation.x, pair.translation.x, accuracy: 0.3, "\(result)")
        XCTAssertEqual(result.translation.y, pair.translation.y, accuracy: 0.3, "\(result)")
        XCTAssertEqual(result.scale, 1)
        XCTAssertEqual(result.rotation, 0)
    }

    /// A slanted view (perspective, as of a planar scene or a camera turned about a vertical
    /// axis): a homography explains clearly more matches than a similarity, and is kept.
    func testFitsAHomographyWhenThePerspectiveAsksForIt() {
        let truth = Homography([1.02, 0.01, 8, -0.005, 1.0, -6, 1.2e-4, 2e-5, 1])
        let pair = CameraPair(frame: frame, mapping: truth)
        let result = CoarseAligner().align(source: pair.source, reference: pair.reference)
        XCTAssertTrue(result.isReliable, "\(result)")
        XCTAssertEqual(result.model, .homography, "\(result)")
        assertMapsLike(truth, result.transform, within: 0.5)
    }

    /// T turned beyond what the aligner takes for a rig: no model within the bounds explains the
    /// matches, and the reason says how few fit.
    func testAnImplausibleGeometryIsUnreliable() {
        let centre = SIMD2(Double(frame.width), Double(frame.height)) / 2
        let pair = CameraPair(
            frame: frame, mapping: .similarity(scale: 1, rotation: 5 * .pi / 180, translation: .zero, about: centre))
        let aligner = CoarseAligner(maximumRotation: 3)
        let result = aligner.align(source: pair.source, reference: pair.reference)
        XCTAssertFalse(result.isReliable, "\(result)")
        XCTAssertTrue(result.problem?.contains("corner matches fit") ?? false, "\(String(describing: result.problem))")
    }

    /// Two views taken by hand, T turned by 28°: beyond what upright patches match, so a rig's
    /// aligner (15°) fails; allowed 45°, it searches turned patches and recovers the turn.
    func testATurnBeyondARigsIsFoundOnlyWhereAllowed() {
        let centre = SIMD2(Double(frame.width), Double(frame.height)) / 2
        let truth = Homography.similarity(scale: 1, rotation: 28 * .pi / 180, translation: SIMD2(12, -7), about: centre)
        let pair = CameraPair(frame: frame, mapping: truth)
        XCTAssertFalse(CoarseAligner().align(source: pair.source, reference: pair.reference).isReliable)
        let result = CoarseAligner(maximumRotation: 45).align(source: pair.source, reference: pair.reference)
        XCTAssertTrue(result.isReliable, "\(result)")
        XCTAssertEqual(result.rotation, 28, accuracy: 0.1, "\(result)")
        assertMapsLike(truth, result.transform, within: 1)
    }

    /// Searching turns gives a mispaired capture more chances to agree by chance: it still does not.
    func testUnrelatedScenesAreUnreliableWithTurnsSearched() {
        let scene = CameraPair(frame: frame, translation: .zero, seed: 1)
        let other = CameraPair(frame: frame, translation: .zero, seed: 2)
        let result = CoarseAligner(maximumRotation: 90).align(source: scene.source, reference: other.reference)
        XCTAssertFalse(result.isReliable, "\(result)")
    }

    /// Smooth shapes and nothing else (cups seen from above, a dusk lake): too few corners to
    /// match, so the similarity is fitted to the images directly, and comes back.
    func testASceneWithoutCornersIsFittedDirectly() {
        let centre = SIMD2(Double(frame.width), Double(frame.height)) / 2
        let truth = Homography.similarity(scale: 1.015, rotation: -0.6 * .pi / 180, translation: SIMD2(-18.4, 11.2), about: centre)
        let pair = CameraPair(frame: frame, mapping: truth, scene: TestFrames.cups)
        let result = CoarseAligner().align(source: pair.source, reference: pair.reference)
        XCTAssertTrue(result.isReliable, "\(result)")
        XCTAssertLessThan(result.inliers, 12, "corners decided: \(result)")
        XCTAssertGreaterThan(result.detailCorrelation ?? 0, 0.8, "\(result)")
        XCTAssertEqual(result.scale, 1.015, accuracy: 0.002, "\(result)")
        XCTAssertEqual(result.rotation, -0.6, accuracy: 0.05, "\(result)")
        assertMapsLike(truth, result.transform, within: 1)
    }

    /// W and T of two different smooth scenes: neither corners nor the direct fit find anything,
    /// and the reason names both.
    func testUnrelatedSmoothScenesAreUnreliable() {
        let scene = CameraPair(frame: frame, translation: .zero, seed: 1, scene: TestFrames.cups)
        let other = CameraPair(frame: frame, translation: .zero, seed: 2, scene: TestFrames.cups)
        let result = CoarseAligner().align(source: scene.source, reference: other.reference)
        XCTAssertFalse(result.isReliable, "\(result)")
        XCTAssertTrue(result.problem?.contains("direct fit: T's detail correlates") ?? false, result.problem ?? "")
    }

    /// A wall of identical tiles: every corner looks like its neighbours, so none match, and the
    /// direct fit correlates as well one tile off as at the truth: refused, not guessed.
    func testRepeatedTextureIsNotGuessed() {
        let pair = CameraPair(frame: frame, translation: SIMD2(-9.3, 6.8), scene: { size, _ in tiledWall(size) })
        let result = CoarseAligner().align(source: pair.source, reference: pair.reference)
        XCTAssertFalse(result.isReliable, "\(result)")
        XCTAssertTrue(result.problem?.contains("ambiguous (repeated texture") ?? false, result.problem ?? "")
    }

    /// The same wall with a few small dark marks on some tiles (bolts, a lamp): too few corners
    /// match to decide alone, but they agree with one of the positions the direct fit cannot
    /// tell apart, and a tile off explains none of them: the truth.
    func testAFewDistinctCornersSettleRepeatedTexture() {
        let pair = CameraPair(frame: frame, translation: SIMD2(-9.3, 6.8), scene: { size, _ in markedWall(size) })
        let result = CoarseAligner().align(source: pair.source, reference: pair.reference)
        XCTAssertTrue(result.isReliable, "\(result)")
        XCTAssertLessThan(result.inliers, 12, "corners decided alone: \(result)")
        XCTAssertNotNil(result.detailCorrelation, "\(result)")
        XCTAssertLessThan(distance(result.translation, pair.translation), 0.5, "\(result)")
    }

    /// The settling rule itself, on the plain wall's direct fit (right or a tile off, it does not
    /// matter here): ambiguous alone, with too few corner inliers, or with inliers a tile off
    /// the fit or just beyond twice a corner match's tolerance (6 px) of it; trusted with enough
    /// of them within that.
    func testOnlyCornerInliersAtTheFitSettleAnAmbiguousSearch() throws {
        let pair = CameraPair(frame: frame, translation: SIMD2(-9.3, 6.8), scene: { size, _ in tiledWall(size) })
        let aligner = DirectAligner(reachFraction: 0.16, maximumScale: 1.5, maximumRotation: 15)
        let lone = aligner.align(source: pair.source, reference: pair.reference)
        XCTAssertTrue(lone.problem?.contains("ambiguous") ?? false, lone.problem ?? "trusted")
        func inliers(_ count: Int, offBy offset: SIMD2<Double>) -> [PointMatch] {
            (0..<count).map { index in
                let point = SIMD2(Double(100 + 80 * index), Double(150 + 40 * (index % 3)))
                return PointMatch(source: point, target: lone.transform.apply(point) + offset)
            }
        }
        let refused = [
            ("too few", inliers(5, offBy: .zero)), ("a tile off", inliers(8, offBy: SIMD2(0, 56))),
            ("just beyond", inliers(8, offBy: SIMD2(6.2, 0))),
        ]
        for (name, cornerInliers) in refused {
            let fit = aligner.align(source: pair.source, reference: pair.reference, cornerInliers: cornerInliers)
            XCTAssertTrue(fit.problem?.contains("ambiguous") ?? false, "\(name): \(fit.problem ?? "trusted")")
        }
        for offset in [SIMD2(1.5, -1), SIMD2(0, 5.8)] {
            let settled = aligner.align(source: pair.source, reference: pair.reference, cornerInliers: inliers(8, offBy: offset))
            XCTAssertNil(settled.problem, "\(offset)")
        }
    }

    /// One straight edge, a horizon turned a little: a shift along it correlates as well as the
    /// truth, so the direct fit is refused or, where the edge's ends pin it, right; never wrong.
    func testAStraightEdgeIsNeverFittedWrongly() {
        let centre = SIMD2(Double(frame.width), Double(frame.height)) / 2
        let truth = Homography.similarity(scale: 1, rotation: 0, translation: SIMD2(25, 3), about: centre)
        for seed in UInt64(1)...4 {
            let horizon: (Size, inout SeededRandom) -> Plane = { size, random in
                let slope = tan(Double.random(in: 0.3...1.5, using: &random) * .pi / 180)
                var scene = Plane(width: size.width, height: size.height, value: 0.3)
                for y in 0..<size.height {
                    for x in 0..<size.width where Double(y) > Double(size.height) / 2 + slope * Double(x) { scene[x, y] = 0.7 }
                }
                return gaussianBlur(scene, sigma: 1)
            }
            let pair = CameraPair(frame: frame, mapping: truth, seed: seed, scene: horizon)
            let result = CoarseAligner().align(source: pair.source, reference: pair.reference)
            if result.isReliable { assertMapsLike(truth, result.transform, within: 1) }
        }
    }

    /// Frames far wider than high (a panorama, a damaged T): the search's vertical reach exceeds
    /// their height, which is refused rather than read past.
    func testFramesFarWiderThanHighAreRefusedNotRead() {
        for size in [Size(width: 1024, height: 150), Size(width: 2000, height: 300), Size(width: 100, height: 15), Size(width: 200, height: 1)] {
            var random = SeededRandom(seed: 3)
            let grey = Plane(width: size.width, height: size.height, value: 0.5)
            let (source, reference) = (addingNoise(grey, sigma: 0.05, random: &random), addingNoise(grey, sigma: 0.05, random: &random))
            XCTAssertFalse(CoarseAligner().align(source: source, reference: reference).isReliable, "\(size)")
        }
    }

    func testTheSameInputsGiveTheSameResult() {
        let pair = CameraPair(frame: frame, translation: SIMD2(5.5, -3.25))
        let aligner = CoarseAligner()
        XCTAssertEqual(
            aligner.align(source: pair.source, reference: pair.reference),
            aligner.align(source: pair.source, reference: pair.reference))
    }

    private func assertRecovers(
        _ translation: SIMD2<Double>, _ result: CoarseAlignment, within tolerance: Double,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertTrue(result.isReliable, "\(result)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(result.inliers, 50, file: file, line: line)
        XCTAssertEqual(result.translation.x, translation.x, accuracy: tolerance, "\(result)", file: file, line: line)
        XCTAssertEqual(result.translation.y, translation.y, accuracy: tolerance, "\(result)", file: file, line: line)
    }

    /// Both maps put the frame's corners and centre within `tolerance` pixels of each other.
    private func assertMapsLike(
        _ truth: Homography, _ found: Homography, within tolerance: Double, file: StaticString = #filePath, line: UInt = #line
    ) {
        let (w, h) = (Double(frame.width), Double(frame.height))
        for point in [SIMD2(w / 2, h / 2), SIMD2(40, 40), SIMD2(w - 40, 40), SIMD2(40, h - 40), SIMD2(w - 40, h - 40)] {
            let error = truth.apply(point) - found.apply(point)
            XCTAssertLessThan((error * error).sum().squareRoot(), tolerance, "at \(point)", file: file, line: line)
        }
    }
}

/// A source and a reference as the pipeline sees them: the reference shows at mapping(x) (at
/// x + translation) what the source shows at x. The source is blurred as W is; the reference has
/// T's gain and offset; each has its own noise.
private struct CameraPair {
    let translation: SIMD2<Double>
    var source: Plane
    var reference: Plane

    init(
        frame: Size, translation: SIMD2<Double>, seed: UInt64 = 1,
        scene: (Size, inout SeededRandom) -> Plane = texturedScene
    ) {
        self.init(
            frame: frame, mapping: .similarity(scale: 1, rotation: 0, translation: translation, about: .zero), seed: seed, scene: scene)
    }

    init(frame: Size, mapping: Homography, seed: UInt64 = 1, scene makeScene: (Size, inout SeededRandom) -> Plane = texturedScene) {
        let centre = SIMD2(Double(frame.width), Double(frame.height)) / 2
        translation = mapping.apply(centre) - centre
        var random = SeededRandom(seed: seed)
        // Beyond the largest test offset, so that neither view shows the scene's repeated edge.
        let margin = 64.0
        let scene = makeScene(Size(width: frame.width + 2 * Int(margin), height: frame.height + 2 * Int(margin)), &random)
        source = addingNoise(
            gaussianBlur(shifted(scene, by: SIMD2(margin, margin), to: frame), sigma: 1.5),
            sigma: 0.01, random: &random)
        // The reference's pixel y shows the scene where the source shows it at mapping⁻¹(y).
        let back = FlowField(size: frame, mapping: mapping.inverse!)
        let tele = warp(
            scene, dx: Plane(width: frame.width, height: frame.height, pixels: back.u.pixels.map { $0 + Float(margin) }),
            dy: Plane(width: frame.width, height: frame.height, pixels: back.v.pixels.map { $0 + Float(margin) }),
            interpolation: .bicubic)
        reference = addingNoise(
            Plane(width: frame.width, height: frame.height, pixels: tele.pixels.map { 1.05 * $0 - 0.02 }),
            sigma: 0.01, random: &random)
    }
}

/// A wall of identical 40-pixel tiles, 56 pixels apart.
private func tiledWall(_ size: Size) -> Plane {
    var wall = Plane(width: size.width, height: size.height, value: 0.3)
    for y in 0..<size.height {
        for x in 0..<size.width where x % 56 < 40 && y % 56 < 40 { wall[x, y] = 0.7 }
    }
    return gaussianBlur(wall, sigma: 1.5)
}

/// The tiled wall with a few small dark marks on some of its tiles.
private func markedWall(_ size: Size) -> Plane {
    var random = SeededRandom(seed: 11)
    var wall = Plane(width: size.width, height: size.height, value: 0.3)
    let tilesAcross = size.width / 56 + 1
    let shades = (0..<tilesAcross * (size.height / 56 + 1)).map { _ in Float.random(in: 0.66...0.74, using: &random) }
    for y in 0..<size.height {
        for x in 0..<size.width where x % 56 < 40 && y % 56 < 40 { wall[x, y] = shades[y / 56 * tilesAcross + x / 56] }
    }
    wall = gaussianBlur(wall, sigma: 1.5)
    for (column, row) in [(2, 2), (7, 3), (12, 2), (4, 6), (10, 7), (2, 10), (8, 10), (13, 9)] {
        let (left, top) = (column * 56 + 18, row * 56 + 18)
        for y in top..<top + 5 { for x in left..<left + 5 { wall[x, y] = 0.2 } }
    }
    return wall
}

/// `plane` read at x + offset for every x of a `size` frame (bicubic).
private func shifted(_ plane: Plane, by offset: SIMD2<Double>, to size: Size) -> Plane {
    warp(
        plane, dx: Plane(width: size.width, height: size.height, value: Float(offset.x)),
        dy: Plane(width: size.width, height: size.height, value: Float(offset.y)), interpolation: .bicubic)
}

/// A deterministic textured scene in [0, 1]: a few sinusoids of random frequency and direction
/// (their sum never repeats) under random rectangles and disks, blurred a little so that it is
/// smooth enough to shift by bicubic interpolation.
private func texturedScene(_ size: Size, random: inout SeededRandom) -> Plane {
    var scene = Plane(width: size.width, height: size.height, value: 0.5)
    for _ in 0..<4 {
        let wavelength = Double.random(in: 15...120, using: &random), angle = Double.random(in: 0 ..< .pi, using: &random)
        let phase = Double.random(in: 0..<2 * .pi, using: &random), amplitude = Float.random(in: 0.03...0.08, using: &random)
        let (fx, fy) = (2 * .pi * cos(angle) / wavelength, 2 * .pi * sin(angle) / wavelength)
        for y in 0..<size.height {
            for x in 0..<size.width { scene[x, y] += amplitude * Float(sin(fx * Double(x) + fy * Double(y) + phase)) }
        }
    }
    for _ in 0..<(size.pixelCount / 1200) {
        let centreX = Int.random(in: 0..<size.width, using: &random), centreY = Int.random(in: 0..<size.height, using: &random)
        let radius = Int.random(in: 3...18, using: &random), value = Float.random(in: 0.1...0.9, using: &random)
        let isDisk = Bool.random(using: &random), aspect = Double.random(in: 0.5...2, using: &random)
        let (halfWidth, halfHeight) = (radius, Int(Double(radius) * aspect))
        for y in max(centreY - halfHeight, 0)..<min(centreY + halfHeight, size.height) {
            for x in max(centreX - halfWidth, 0)..<min(centreX + halfWidth, size.width) {
                let (u, v) = (Double(x - centreX) / Double(halfWidth), Double(y - centreY) / Double(halfHeight))
                if !isDisk || u * u + v * v <= 1 { scene[x, y] = value }
            }
        }
    }
    return gaussianBlur(scene, sigma: 0.7)
}

/// `plane` plus independent Gaussian noise of standard deviation `sigma` (Box–Muller).
private func addingNoise(_ plane: Plane, sigma: Float, random: inout SeededRandom) -> Plane {
    Plane(
        width: plane.width, height: plane.height,
        pixels: plane.pixels.map { value in
            let u = Float.random(in: Float.ulpOfOne...1, using: &random), v = Float.random(in: 0...1, using: &random)
            return value + sigma * (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        })
}
