import Foundation
import HZHarness
import HZImageIO
import HZTestSupport
import HybridZoom
import XCTest

/// Alignment (steps 3–6) on a simulated capture, against its ground truth.
final class AlignmentOnSimulationTests: XCTestCase {
    func testTranslationFlowAndOccluderAreFound() throws {
        // A real photo (a test fixture): synthetic periodic textures are ambiguous to match.
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HZImageIOTests/Fixtures/xiaomi-mi-a3.jpg")
        let photo = try decodeJPEG([UInt8](Data(contentsOf: fixture)), maxPixels: 1_000_000).image.floats
        var parameters = RigParameters.draw(
            seed: 11, frameSize: Size(width: 400, height: 300), zoomRatio: 2,
            exposure: .automatic(sceneEV100: 12), ranges: .classic)
        (parameters.teleOffset, parameters.parallax, parameters.occluders, parameters.defocus) = ([14.5, -8.25], 1.5, 1, false)
        let capture = RigSimulation(photo: photo, parameters: parameters).capture(at: Date(timeIntervalSince1970: 0))
        let source = DigitalZoom.render(
            capture.wide,
            crop: DigitalZoom.cropRect(
                wide: capture.wide.size,
                calibration: RigCalibration(zoomRatio: 2), zoom: 2, outputSize: capture.tele.size),
            to: capture.tele.size)
        let alignment = Alignment.align(source: source.y, reference: capture.tele.y)

        XCTAssertTrue(alignment.coarse.isReliable)
        XCTAssertEqual(alignment.coarse.translation.x, -14.5, accuracy: 1, "parallax moves the median a little")
        XCTAssertEqual(alignment.coarse.translation.y, 8.25, accuracy: 1)

        let truthFlow = capture.forwardFlow, flow = alignment.fullResolutionFlow
        var error = 0.0, count = 0.0
        for y in stride(from: 10, to: 290, by: 2) {
            for x in stride(from: 10, to: 390, by: 2) where capture.occlusion[x, y] == 0 && capture.teleCoverage[x, y] == 1 {
                let du = flow.u[x, y] - truthFlow.u[x, y], dv = flow.v[x, y] - truthFlow.v[x, y]
                error += Double((du * du + dv * dv).squareRoot())
                count += 1
            }
        }
        XCTAssertLessThan(error / count, 0.5, "mean endpoint error at full resolution")

        // The occluded pixels, seen at flow resolution, are mostly flagged; visible ones mostly not.
        let occlusion = resample(
            alignment.occlusion,
            from: Rect(
                x: 0, y: 0, width: Double(alignment.occlusion.width),
                height: Double(alignment.occlusion.height)), to: capture.occlusion.size)
        var flagged = (hidden: 0.0, hiddenCount: 0.0, visible: 0.0, visibleCount: 0.0)
        for i in occlusion.pixels.indices where capture.teleCoverage.pixels[i] == 1 {
            if capture.occlusion.pixels[i] == 1 {
                flagged.hidden += occlusion.pixels[i] >= 0.5 ? 1 : 0
                flagged.hiddenCount += 1
            } else {
                flagged.visible += occlusion.pixels[i] >= 0.5 ? 1 : 0
                flagged.visibleCount += 1
            }
        }
        XCTAssertGreaterThan(flagged.hiddenCount, 50, "the simulated occluder is in view")
        XCTAssertGreaterThan(flagged.hidden / flagged.hiddenCount, 0.7)
        XCTAssertLessThan(flagged.visible / flagged.visibleCount, 0.1)

        // T, moved by 14.5 px, leaves a strip of I_src it does not see: Ỹ_ref shows Y_src there.
        let outside = EnlargedMask(alignment.outsideReference, to: source.size).plane
        let past = outside.pixels.indices.filter { outside.pixels[$0] >= 0.5 }
        XCTAssertGreaterThan(past.count, 1000)
        let warped = try XCTUnwrap(alignment.warpedReference)
        XCTAssertTrue(past.allSatisfy { warped.pixels[$0] == source.y.pixels[$0] })
    }

    /// The gate on the tethered simulator at its extremes: T turned by ±1° and scaled by ±2 %
    /// against the calibration (with whatever parallax, near objects, movers, distortion and
    /// processing the seed draws) is fused; W with another photo's T, or with a covered T (dark
    /// and featureless but for noise), is `skipped: alignment failed`.
    func testTurnedAndScaledRigsAreFusedButUnrelatedOrCoveredTeleIsNot() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HZImageIOTests/Fixtures")
        let photos = try ["xiaomi-mi-a3.jpg", "canon-sx530hs.jpg"].map {
            try decodeJPEG([UInt8](Data(contentsOf: fixtures.appendingPathComponent($0))), maxPixels: 1_000_000).image.floats
        }
        let pipeline = CapturePipeline(
            settings: CaptureSettings(rig: RigCalibration(zoomRatio: 2)), fusion: ClassicalFusion(bandSplitSigma: 1.5))
        var captures: [SimulatedCapture] = []
        for (index, (rotation, scale)) in [(1.0, 1.02), (-1.0, 0.98), (1.0, 0.98), (-1.0, 1.02)].enumerated() {
            for (side, photo) in photos.enumerated() {
                var parameters = RigParameters.draw(
                    seed: UInt64(60 + 2 * index + side), frameSize: Size(width: 320, height: 240), zoomRatio: 2,
                    exposure: .automatic(sceneEV100: 12))
                (parameters.teleRotation, parameters.teleScale) = (rotation, scale)
                captures.append(RigSimulation(photo: photo, parameters: parameters).capture(at: Date(timeIntervalSince1970: 0)))
            }
        }
        func process(_ wide: YCbCrImage, _ tele: YCbCrImage) throws -> ProcessedCapture {
            try pipeline.process(wide: CaptureFrame(quantizing: wide), tele: CaptureFrame(quantizing: tele))
        }
        for (index, capture) in captures.enumerated() {
            let processed = try process(capture.wide, capture.tele)
            XCTAssertEqual(processed.decision, .fused, "capture \(index): \(processed.reason)")
        }
        // Neighbours in `captures` show different photos.
        for index in stride(from: 0, to: captures.count, by: 2) {
            let processed = try process(captures[index].wide, captures[index + 1].tele)
            XCTAssertEqual(processed.decision, .skipped(.alignmentFailed), "capture \(index): \(processed.reason)")
        }
        var covered = captures[0].tele
        var random = SeededRandom(seed: 3)
        for i in covered.y.pixels.indices { covered.y.pixels[i] = 0.03 + 0.002 * random.gaussian() }
        let processed = try process(captures[0].wide, covered)
        XCTAssertEqual(processed.decision, .skipped(.alignmentFailed), processed.reason)
    }

    /// T turned by 25°, as two views taken by hand are and no rig's T is: `gate.max_rotation`
    /// decides. A rig's 15° fails it; 45° searches turned matches and fuses it, yet still finds
    /// no agreement between W and another photo's T.
    func testATurnBeyondARigsIsFusedOnlyWhereTheGateAllowsIt() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HZImageIOTests/Fixtures")
        let photos = try ["xiaomi-mi-a3.jpg", "canon-sx530hs.jpg"].map {
            try decodeJPEG([UInt8](Data(contentsOf: fixtures.appendingPathComponent($0))), maxPixels: 1_000_000).image.floats
        }
        let captures = photos.enumerated().map { side, photo in
            var parameters = RigParameters.draw(
                seed: UInt64(80 + side), frameSize: Size(width: 320, height: 240), zoomRatio: 2, exposure: .automatic(sceneEV100: 12))
            parameters.teleRotation = 25
            return RigSimulation(photo: photo, parameters: parameters).capture(at: Date(timeIntervalSince1970: 0))
        }
        func decision(_ wide: YCbCrImage, _ tele: YCbCrImage, maximumRotation: Double) throws -> ProcessedCapture {
            var alignment = AlignmentSettings()
            alignment.coarse.maximumRotation = maximumRotation
            let settings = CaptureSettings(rig: RigCalibration(zoomRatio: 2), alignment: alignment)
            return try CapturePipeline(settings: settings, fusion: ClassicalFusion(bandSplitSigma: 1.5))
                .process(wide: CaptureFrame(quantizing: wide), tele: CaptureFrame(quantizing: tele))
        }
        for capture in captures {
            let rig = try decision(capture.wide, capture.tele, maximumRotation: 15)
            XCTAssertEqual(rig.decision, .skipped(.alignmentFailed), rig.reason)
            let byHand = try decision(capture.wide, capture.tele, maximumRotation: 45)
            XCTAssertEqual(byHand.decision, .fused, byHand.reason)
        }
        let unrelated = try decision(captures[0].wide, captures[1].tele, maximumRotation: 45)
        XCTAssertEqual(unrelated.decision, .skipped(.alignmentFailed), unrelated.reason)
    }
}
