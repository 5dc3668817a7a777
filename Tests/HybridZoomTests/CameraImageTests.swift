import HZTestSupport
import XCTest

@testable import HybridZoom

/// Frames stay in the 8 bits they were decoded in, and each stage that reads them converts the
/// rows it needs. Every such stage must give exactly what it gives the same samples in floats.
final class CameraImageTests: XCTestCase {
    private func texture(_ size: Size, seed: UInt64 = 3) -> BytePlane {
        var random = SeededRandom(seed: seed)
        return BytePlane(quantizing: TestFrames.cups(size, random: &random))
    }

    func testSamplesReadAsTheDecoderReadsThem() {
        let plane = BytePlane(width: 11, height: 3, pixels: (0..<33).map { UInt8($0 * 7) })
        let floats = plane.floats
        for y in 0..<3 {
            for x in 0..<11 {
                XCTAssertEqual(floats[x, y], Float(plane.pixels[y * 11 + x]) * (1 / 255))
                XCTAssertEqual(plane[x, y], floats[x, y])
            }
        }
        XCTAssertEqual(BytePlane(quantizing: floats), plane, "rounding the floats gives the samples back")
        let outside = Plane(width: 3, height: 1, pixels: [-0.2, 1.7, .nan])
        XCTAssertEqual(BytePlane(quantizing: outside).pixels, [0, 255, 0])
    }

    func testResamplingBytesGivesWhatTheirFloatsGive() {
        let plane = texture(Size(width: 203, height: 149))
        let cases: [(Rect, Size, Interpolation)] = [
            (Rect(x: 50.5, y: 37.25, width: 101.5, height: 74.5), Size(width: 203, height: 149), .bicubic),  // enlarging
            (plane.size.bounds, Size(width: 29, height: 21), .bicubic),  // shrinking: the vertical pass first
            (plane.size.bounds, Size(width: 64, height: 48), .bilinear),
            (Rect(x: -3, y: 140, width: 40, height: 30), Size(width: 57, height: 13), .bicubic),  // past the edges
        ]
        for (rect, size, interpolation) in cases {
            XCTAssertEqual(
                resample(plane, from: rect, to: size, interpolation: interpolation),
                resample(plane.floats, from: rect, to: size, interpolation: interpolation), "\(rect) to \(size)")
        }
    }

    func testWarpingBytesGivesWhatTheirFloatsGive() {
        let plane = texture(Size(width: 160, height: 300))
        let centre = SIMD2(80.0, 150.0)
        for degrees in [0.8, -12.0, 180.0] {
            let turn = Homography.similarity(scale: 0.9, rotation: degrees * .pi / 180, translation: SIMD2(3.5, -40), about: centre)
            for interpolation in [Interpolation.bicubic, .bilinear] {
                XCTAssertEqual(
                    warp(plane, by: turn, to: Size(width: 150, height: 290), interpolation: interpolation),
                    warp(plane.floats, by: turn, to: Size(width: 150, height: 290), interpolation: interpolation), "\(degrees)°")
            }
        }
    }

    /// A map whose denominator changes sign over the output reads rows far from where the
    /// output's corners land; vectors far past the frame read its edge rows.
    func testReadingFarPastTheBandsGivesWhatTheFloatsGive() {
        let plane = texture(Size(width: 64, height: 100))
        let flipping = Homography([1, 0, 0, 0, 1, 0, -1.0 / 32, 0, 1])
        XCTAssertEqual(
            warp(plane, by: flipping, to: Size(width: 64, height: 64), interpolation: .bilinear),
            warp(plane.floats, by: flipping, to: Size(width: 64, height: 64), interpolation: .bilinear))
        for v: Float in [2e9, -2e9, 150, -150] {
            let flow = FlowField(size: Size(width: 4, height: 4), u: 3, v: v)
            XCTAssertEqual(
                flow.sample(plane, enlargedTo: Size(width: 64, height: 100)),
                flow.sample(plane.floats, enlargedTo: Size(width: 64, height: 100)), "v \(v)")
        }
    }

    func testATurnedDigitalZoomFromBytesIsTheOneFromFloats() {
        let wide = CameraImage(quantizing: TestFrames.scene(Size(width: 320, height: 240)))
        let teleSize = Size(width: 160, height: 120)
        for rotation in [0.0, 0.7] {
            let rig = RigCalibration(zoomRatio: 2, centerOffset: (0.03, -0.02), rotation: rotation)
            let view = DigitalZoom.teleView(wide: wide.size, calibration: rig, teleSize: teleSize)
            XCTAssertEqual(
                DigitalZoom.render(wide, view: view, to: teleSize), DigitalZoom.render(wide.floats, view: view, to: teleSize),
                "rotation \(rotation)")
        }
    }

    /// T turned, scaled and moved well past a band of rows: every step of alignment reads the
    /// bytes as it would read their floats, down to the warped luma.
    func testAligningBytesGivesWhatTheirFloatsGive() {
        let size = Size(width: 480, height: 360)
        var random = SeededRandom(seed: 9)
        let scene = TestFrames.cups(size, random: &random)
        let turn = Homography.similarity(
            scale: 1.015, rotation: 0.9 * .pi / 180, translation: SIMD2(9, -21), about: SIMD2(240, 180))
        let tele = BytePlane(quantizing: warp(scene, by: turn, to: size, interpolation: .bicubic))
        let fromBytes = Alignment.align(source: scene, reference: tele)
        let fromFloats = Alignment.align(source: scene, reference: tele.floats)
        XCTAssertTrue(fromBytes.coarse.isReliable, fromBytes.coarse.problem ?? "")
        XCTAssertEqual(fromBytes.coarse, fromFloats.coarse)
        XCTAssertEqual(fromBytes.colour, fromFloats.colour)
        XCTAssertEqual(fromBytes.forward.flow, fromFloats.forward.flow)
        XCTAssertEqual(fromBytes.warpedReference, fromFloats.warpedReference)
    }

    func testMeasuringBytesGivesWhatTheirFloatsGive() {
        for size in [Size(width: 200, height: 150), Size(width: 97, height: 61), Size(width: 12, height: 9)] {
            let plane = texture(size, seed: 4)
            XCTAssertEqual(
                FrameMeasurement(luma: plane, exposure: ExposureSettings()),
                FrameMeasurement(luma: plane.floats, exposure: ExposureSettings()), "\(size)")
        }
    }
}
