import Foundation
import HZImageIO
import HZTestSupport
import HybridZoom
import Synchronization
import XCTest

@testable import HZSpool

/// Several output zooms from one capture: fusion runs once, and each zoom is W's digital zoom
/// with the fused luma pasted where T's view lands in it.
final class CaptureFilesTests: XCTestCase {
    /// 160 × 120 frames at zoom ratio 2: T's view is W's central 80 × 60.
    private let frame = Size(width: 160, height: 120)

    func testEveryZoomTakesTheOneFusionWhereTSeesAndIsWsDigitalZoomElsewhere() throws {
        let pair = try TestFrames.simulatedPair(frame: frame)
        var counted = try pipeline(zoom: "[tele, 1, 3]")
        let fusion = CountingFusion(try XCTUnwrap(counted.fusion))
        counted.fusion = fusion
        let rendered = try process(pair, counted)
        XCTAssertEqual(rendered.decision, .fused)
        XCTAssertEqual(fusion.calls.withLock { $0 }, 1, "fusion ran once for three zooms")

        XCTAssertEqual(rendered.outputs.map(\.zoom), [2, 1, 3])
        XCTAssertEqual(rendered.outputs.map(\.image.size), [frame, frame, frame])
        let third = 160.0 / 3
        assertEqual(rendered.outputs[0].crop, Rect(x: 40, y: 30, width: 80, height: 60))
        assertEqual(rendered.outputs[1].crop, Rect(x: 0, y: 0, width: 160, height: 120))
        assertEqual(rendered.outputs[2].crop, Rect(x: 80 - third / 2, y: 40, width: third, height: 40))

        let single = try process(pair, try pipeline(zoom: "tele"))
        XCTAssertEqual(rendered.primary.image, single.primary.image, "the tele output is what a single zoom gives")

        let wide = try decodeJPEG(pair.wide, maxPixels: 1_000_000).image.floats
        let teleView = rendered.primary.crop
        for output in rendered.outputs {
            let digitalZoom = DigitalZoom.render(wide, crop: output.crop, to: output.image.size)
            XCTAssertEqual(output.image.cb, digitalZoom.cb, "chroma is W's at zoom \(output.zoom)")
            XCTAssertEqual(output.image.cr, digitalZoom.cr, "chroma is W's at zoom \(output.zoom)")
            let view = DigitalZoom.placement(of: teleView, in: output.crop, outputSize: output.image.size)
            var outside = 0
            for y in 0..<frame.height {
                for x in 0..<frame.width where !touches(view, x: x, y: y) {
                    XCTAssertEqual(output.image.y[x, y], digitalZoom.y[x, y], "(\(x), \(y)) at zoom \(output.zoom)")
                    outside += 1
                }
            }
            XCTAssertEqual(outside, output.zoom == 1 ? 160 * 120 - 80 * 60 : 0, "zoom \(output.zoom)")
            try assertFusedDetail(in: output, digitalZoom: digitalZoom, view: view, fused: rendered.primary.image.y)
        }
    }

    /// The daemon's pipeline hands `Ỹ_ref` to fusion, which writes `Y_fusion` over it; the
    /// harness's keeps it. Both make the same images, by the network and by classical fusion,
    /// on `I_src`'s grid and beside it.
    func testHandingỸrefToFusionChangesNoImage() throws {
        let pair = try TestFrames.simulatedPair(frame: frame)
        for method in ["network", "classical"] {
            let config = try config(zoom: "[tele, 1]", fusion: method)
            let pipeline = config.pipeline(try FusionStage(config.fusion))
            let (wide, tele) = try CaptureFiles.decode(wide: pair.wide, tele: pair.tele, intake: config.intake)
            let kept = try pipeline.process(wide: CaptureFrame(wide), tele: CaptureFrame(tele))
            let handedOver = try pipeline.process(wide: CaptureFrame(wide), tele: CaptureFrame(tele), keepingIntermediates: false)
            XCTAssertEqual(handedOver.decision, .fused, method)
            XCTAssertNotNil(kept.alignment?.warpedReference, method)
            XCTAssertNotNil(handedOver.alignment, method)
            XCTAssertNil(handedOver.alignment?.warpedReference, method)
            XCTAssertEqual(handedOver.outputs.map(\.image), kept.outputs.map(\.image), method)
            XCTAssertNil(handedOver.source, method)
            XCTAssertEqual(kept.source?.size, frame, method)
        }
    }

    /// `Y_src` made from W's 8-bit luma as each stage reads it (as for frames above
    /// `largestHeldSource`) gives every image and decision that holding it gives, by the network
    /// and by classical fusion, on `I_src`'s grid and beside it, and on a capture the gate skips.
    func testMakingY_srcAsItIsReadChangesNoImage() throws {
        let pair = try TestFrames.simulatedPair(frame: frame)
        for method in ["network", "classical"] {
            let config = try config(zoom: "[tele, 1]", fusion: method)
            var pipeline = config.pipeline(try FusionStage(config.fusion))
            let (wide, tele) = try CaptureFiles.decode(wide: pair.wide, tele: pair.tele, intake: config.intake)
            let held = try pipeline.process(wide: CaptureFrame(wide), tele: CaptureFrame(tele), keepingIntermediates: false)
            pipeline.settings.largestHeldSource = 0
            let made = try pipeline.process(wide: CaptureFrame(wide), tele: CaptureFrame(tele), keepingIntermediates: false)
            XCTAssertEqual(made.decision, .fused, method)
            XCTAssertEqual(made.outputs.map(\.image), held.outputs.map(\.image), method)
            XCTAssertEqual(made.blend?.weight, held.blend?.weight, method)
            XCTAssertEqual(made.alignment?.coarse.transform, held.alignment?.coarse.transform, method)
            let unrelated = try pipeline.process(wide: CaptureFrame(wide), tele: CaptureFrame(wide), keepingIntermediates: false)
            pipeline.settings.largestHeldSource = .max
            let unrelatedHeld = try pipeline.process(wide: CaptureFrame(wide), tele: CaptureFrame(wide), keepingIntermediates: false)
            XCTAssertEqual(unrelated.decision, unrelatedHeld.decision, method)
            XCTAssertEqual(unrelated.outputs.map(\.image), unrelatedHeld.outputs.map(\.image), method)
        }
    }

    /// Fusion is handed the only reference to `Ỹ_ref` unless the caller keeps it, so that it
    /// writes over it rather than over a 400 MB copy at 100 MP.
    func testFusionIsHandedTheOnlyReferenceToỸref() throws {
        let pair = try TestFrames.simulatedPair(frame: frame)
        let config = try config(zoom: "tele")
        var pipeline = config.pipeline(try FusionStage(config.fusion))
        let fusion = OwnershipRecordingFusion()
        pipeline.fusion = fusion
        let (wide, tele) = try CaptureFiles.decode(wide: pair.wide, tele: pair.tele, intake: config.intake)
        _ = try pipeline.process(wide: CaptureFrame(wide), tele: CaptureFrame(tele), keepingIntermediates: false)
        _ = try pipeline.process(wide: CaptureFrame(wide), tele: CaptureFrame(tele))
        XCTAssertEqual(fusion.handedTheOnlyReference.withLock { $0 }, [true, false])
    }

    /// `output.maps`: a fused capture carries alignment's maps, each blend map and the blend
    /// weight as JPEGs on the flow's 512-px grid; a capture that fails alignment only alignment's;
    /// one never aligned none, and without `output.maps` there are none.
    /// A pair aligned by fitting the images directly (smooth shapes, too few corners) says so in
    /// its sidecar: `correlation`, the evidence it was judged on; one aligned by corners has none.
    func testTheSidecarReportsADirectFitsCorrelation() throws {
        let size = Size(width: 640, height: 480), centre = SIMD2(320.0, 240.0)
        let turn = Homography.similarity(scale: 1.01, rotation: 0.5 * .pi / 180, translation: SIMD2(6, -4), about: centre)
        func summary(_ scene: Plane) -> AlignmentSummary {
            AlignmentSummary(Alignment.align(source: scene, reference: warp(scene, by: turn.inverse!, to: size, interpolation: .bicubic)))
        }
        var random = SeededRandom(seed: 5)
        let direct = summary(TestFrames.cups(size, random: &random))
        XCTAssertTrue(direct.reliable, direct.problem ?? "")
        XCTAssertGreaterThan(direct.correlation ?? 0, 0.8)
        XCTAssertTrue(String(decoding: try JSONEncoder().encode(direct), as: UTF8.self).contains("\"correlation\""))
        let photo = try decodeJPEG(try TestFrames.simulatedPair(frame: size).wide, maxPixels: 1_000_000).image.y.floats
        let byCorners = summary(photo)
        XCTAssertTrue(byCorners.reliable, byCorners.problem ?? "")
        XCTAssertNil(byCorners.correlation)
    }

    func testMapsArePublishedOnRequestOnTheMapsGrid() throws {
        let large = try TestFrames.simulatedPair(frame: Size(width: 640, height: 480))
        let fused = try publish(large, maps: true)
        XCTAssertEqual(fused.decision, .fused)
        let alignmentMaps = ["flow.jpg", "uncertainty.jpg", "occlusion.jpg"]
        XCTAssertEqual(
            fused.maps.map(\.file),
            alignmentMaps + [
                "map-defocus.jpg", "map-defocus-parallax.jpg", "map-flat.jpg", "map-occlusion.jpg", "map-rejection.jpg", "map-uncertainty.jpg",
                "blend.jpg",
            ])
        for map in fused.maps {
            XCTAssertEqual(try decodeJPEG(map.jpeg, maxPixels: 1_000_000).image.size, Size(width: 512, height: 384), map.file)
        }
        XCTAssertGreaterThan(fused.timings[.maps], 0)

        let pair = try TestFrames.simulatedPair(frame: frame)
        let plain = try publish(pair)
        XCTAssertEqual(plain.decision, .fused)
        XCTAssertEqual(plain.maps.count, 0)
        XCTAssertFalse(plain.timings.ran(.maps))

        // W and T of different scenes: aligned, then skipped.
        let unrelated = (try TestFrames.jpeg(frame, time: .now), try TestFrames.jpeg(frame, time: .now, seed: 2))
        let misaligned = try publish((unrelated.0, unrelated.1), maps: true)
        XCTAssertEqual(misaligned.decision, .skipped(.alignmentFailed))
        XCTAssertEqual(misaligned.maps.map(\.file), alignmentMaps)

        // Fusion off: never aligned, so no maps.
        XCTAssertEqual(try publish(pair, maps: true, fusion: "off").maps.count, 0)
    }

    /// Inside T's view the output differs from W's digital zoom, towards the fused luma there.
    private func assertFusedDetail(
        in output: ZoomedImage, digitalZoom: YCbCrImage, view: Rect, fused: Plane,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        // T's view in output pixels, 2 px in from its edge (the blend fades out there) and the output's.
        let columns = max(Int(view.x.rounded(.up)) + 2, 0)..<min(Int((view.x + view.width).rounded(.down)) - 2, frame.width)
        let rows = max(Int(view.y.rounded(.up)) + 2, 0)..<min(Int((view.y + view.height).rounded(.down)) - 2, frame.height)
        let inFused = Rect(
            x: (Double(columns.lowerBound) - view.x) * Double(fused.width) / view.width,
            y: (Double(rows.lowerBound) - view.y) * Double(fused.height) / view.height,
            width: Double(columns.count) * Double(fused.width) / view.width,
            height: Double(rows.count) * Double(fused.height) / view.height)
        let expected = resample(fused, from: inFused, to: Size(width: columns.count, height: rows.count))
        var outputError = 0.0, zoomError = 0.0, change = 0.0
        for (j, y) in rows.enumerated() {
            for (i, x) in columns.enumerated() {
                outputError += Double(abs(output.image.y[x, y] - expected[i, j]))
                zoomError += Double(abs(digitalZoom.y[x, y] - expected[i, j]))
                change += Double(abs(output.image.y[x, y] - digitalZoom.y[x, y]))
            }
        }
        let count = Double(columns.count * rows.count)
        // Measured: changes of 0.028, 0.011 and 0.026 at zooms 2, 1 and 3; errors 0, 0.0074 and
        // 0.0012 against the digital zoom's 0.028, 0.0090 and 0.026 (at zoom 1 most of T's
        // detail is finer than the output's pixels).
        XCTAssertGreaterThan(change / count, 0.005, "fusion changed T's view at zoom \(output.zoom)", file: file, line: line)
        XCTAssertLessThan(outputError, zoomError, "towards the fused luma at zoom \(output.zoom)", file: file, line: line)
    }

    /// Whether output pixel (x, y) overlaps `rect` (in output pixels), rounded outwards as the paste does.
    private func touches(_ rect: Rect, x: Int, y: Int) -> Bool {
        Double(x + 1) > rect.x.rounded(.down) && Double(x) < (rect.x + rect.width).rounded(.up)
            && Double(y + 1) > rect.y.rounded(.down) && Double(y) < (rect.y + rect.height).rounded(.up)
    }

    private func config(zoom: String, maps: Bool = false, fusion: String = "classical") throws -> DaemonConfig {
        try DaemonConfig.parse("fusion: {method: \(fusion)}\noutput: {zoom: \(zoom), maps: \(maps)}\n", relativeTo: "/")
    }

    private func pipeline(zoom: String) throws -> CapturePipeline {
        let config = try config(zoom: zoom)
        return config.pipeline(try FusionStage(config.fusion))
    }

    private func process(_ pair: (wide: [UInt8], tele: [UInt8]), _ pipeline: CapturePipeline) throws -> ProcessedCapture {
        try CaptureFiles.process(wide: pair.wide, tele: pair.tele, pipeline: pipeline, intake: try config(zoom: "tele").intake)
    }

    /// The capture as the daemon publishes it, at the tele zoom.
    private func publish(
        _ pair: (wide: [UInt8], tele: [UInt8]), maps: Bool = false, fusion: String = "classical"
    ) throws
        -> EncodedCapture
    {
        let config = try config(zoom: "tele", maps: maps, fusion: fusion)
        return try CaptureFiles.process(
            wide: pair.wide, tele: pair.tele, pipeline: config.pipeline(try FusionStage(config.fusion)),
            config: config)
    }

    /// A fusion that records whether it holds the only reference to `Ỹ_ref`'s samples (writing
    /// to them then moves nothing), and fuses nothing.
    private final class OwnershipRecordingFusion: Fusion {
        let handedTheOnlyReference = Mutex<[Bool]>([])

        func fuse(_ inputs: consuming FusionInputs) throws -> Plane {
            let source = inputs.source
            var reference = inputs.reference
            _ = consume inputs
            let before = reference.pixels.withUnsafeBufferPointer(\.baseAddress)
            reference.pixels.withUnsafeMutableBufferPointer { _ in }
            let only = reference.pixels.withUnsafeBufferPointer(\.baseAddress) == before
            handedTheOnlyReference.withLock { $0.append(only) }
            return source.plane
        }
    }

    /// A fusion that counts how often it runs.
    private final class CountingFusion: Fusion {
        let inner: any Fusion
        let calls = Mutex(0)
        init(_ inner: any Fusion) { self.inner = inner }

        func fuse(_ inputs: FusionInputs) throws -> Plane {
            calls.withLock { $0 += 1 }
            return try inner.fuse(inputs)
        }
    }

    private func assertEqual(_ rect: Rect, _ expected: Rect, file: StaticString = #filePath, line: UInt = #line) {
        for (value, wanted) in [(rect.x, expected.x), (rect.y, expected.y), (rect.width, expected.width), (rect.height, expected.height)] {
            XCTAssertEqual(value, wanted, accuracy: 1e-9, "\(rect) against \(expected)", file: file, line: line)
        }
    }
}
