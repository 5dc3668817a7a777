import Foundation
import XCTest

@testable import HybridZoom

final class GateTests: XCTestCase {
    /// W at f/1.8 and T at f/2.8, 1/100 s: EV100 = log2(N²/t) − log2(ISO/100).
    private func frame(fNumber: Double, iso: Double?, meanLuma: Double = 0.4, noise: Double = 0.002) -> FrameMeasurement {
        FrameMeasurement(exposure: ExposureSettings(exposureTime: 0.01, fNumber: fNumber, iso: iso), meanLuma: meanLuma, noise: noise)
    }

    private let aligned = AlignmentCheck(problem: nil, overlap: 0.95)

    func testEV100() {
        XCTAssertEqual(ExposureSettings(exposureTime: 1, fNumber: 1, iso: 100).ev100, 0)
        XCTAssertEqual(ExposureSettings(exposureTime: 0.01, fNumber: 2, iso: 400).ev100!, log2(400) - 2, accuracy: 1e-12)
        XCTAssertNil(ExposureSettings(exposureTime: 0.01, fNumber: 2).ev100)
        XCTAssertNil(ExposureSettings(exposureTime: 0, fNumber: 2, iso: 100).ev100)
    }

    func testBrightAlignedCaptureIsFused() {
        let decision = Gate.decide(wide: frame(fNumber: 1.8, iso: 100), tele: frame(fNumber: 2.8, iso: 250), zoomRatio: 2, alignment: aligned)
        XCTAssertEqual(decision.outcome, .fused)
        XCTAssertTrue(decision.fuses)
        XCTAssertEqual(decision.reason, "fused")
        XCTAssertEqual(decision.measurements.ev100Wide!, log2(1.8 * 1.8 / 0.01), accuracy: 1e-9)
        XCTAssertEqual(decision.measurements.noiseTeleAtWideScale, 0.001, accuracy: 1e-12)
    }

    /// EV100 of W is 3.3 at ISO 3200 and 2.3 at ISO 6400 (f/1.8, 1/100 s): either side of 3.
    func testLowLightByEV100() {
        let dim = Gate.decide(wide: frame(fNumber: 1.8, iso: 3200), tele: frame(fNumber: 2.8, iso: 6400), zoomRatio: 2, alignment: aligned)
        XCTAssertEqual(dim.outcome, .fused)
        let dark = Gate.decide(wide: frame(fNumber: 1.8, iso: 6400), tele: frame(fNumber: 2.8, iso: 6400), zoomRatio: 2, alignment: aligned)
        XCTAssertEqual(dark.outcome, .lowLight)
        XCTAssertEqual(dark.reason, "skipped: low light (EV100 of W 2.34 below 3.00)")
    }

    func testLowLightByMeanLuma() {
        let tele = frame(fNumber: 2.8, iso: 250)
        XCTAssertEqual(Gate.decide(wide: frame(fNumber: 1.8, iso: 100, meanLuma: 0.09), tele: tele, zoomRatio: 2).outcome, .fused)
        let dark = Gate.decide(wide: frame(fNumber: 1.8, iso: 100, meanLuma: 0.07), tele: tele, zoomRatio: 2)
        XCTAssertEqual(dark.outcome, .lowLight)
        XCTAssertEqual(dark.reason, "skipped: low light (mean luma of W 0.070 below 0.080)")
    }

    /// At r = 2 T's noise counts half at W's scale: 0.0116 is 1.45 × W's 0.004, 0.0124 is 1.55 ×.
    func testTeleNoisierThanWide() {
        let wide = frame(fNumber: 1.8, iso: 100, noise: 0.004)
        XCTAssertEqual(Gate.decide(wide: wide, tele: frame(fNumber: 2.8, iso: 250, noise: 0.0116), zoomRatio: 2).outcome, .fused)
        let noisy = Gate.decide(wide: wide, tele: frame(fNumber: 2.8, iso: 250, noise: 0.0124), zoomRatio: 2)
        XCTAssertEqual(noisy.outcome, .teleNoisier)
        XCTAssertTrue(noisy.reason.hasPrefix("skipped: tele noisier than wide ("), noisy.reason)
    }

    func testCleanFramesAreNeverCalledNoisier() {
        let decision = Gate.decide(
            wide: frame(fNumber: 1.8, iso: 100, noise: 0.0001), tele: frame(fNumber: 2.8, iso: 250, noise: 0.0076),
            zoomRatio: 2)
        XCTAssertEqual(decision.outcome, .fused, "T under one code value at W's scale, however clean W is")
    }

    func testAlignmentFailed() {
        let wide = frame(fNumber: 1.8, iso: 100), tele = frame(fNumber: 2.8, iso: 250)
        let unreliable = Gate.decide(
            wide: wide, tele: tele, zoomRatio: 2, alignment: AlignmentCheck(problem: "3 of 40 corner matches fit, below 12", overlap: 0.95))
        XCTAssertEqual(unreliable.reason, "skipped: alignment failed (coarse alignment unreliable: 3 of 40 corner matches fit, below 12)")
        let apart = Gate.decide(wide: wide, tele: tele, zoomRatio: 2, alignment: AlignmentCheck(problem: nil, overlap: 0.45))
        XCTAssertEqual(apart.reason, "skipped: alignment failed (overlap 0.45 below 0.50)")
        XCTAssertEqual(
            Gate.decide(wide: wide, tele: tele, zoomRatio: 2, alignment: AlignmentCheck(problem: nil, overlap: 0.55)).outcome,
            .fused)
    }

    func testMissingEXIFFallsBackToMeanLumaAndSaysSo() {
        let noEXIF = FrameMeasurement(exposure: ExposureSettings(), meanLuma: 0.4, noise: 0.002)
        let fused = Gate.decide(wide: noEXIF, tele: noEXIF, zoomRatio: 2, alignment: aligned)
        XCTAssertEqual(fused.outcome, .fused)
        XCTAssertNil(fused.measurements.ev100Wide)
        XCTAssertEqual(fused.reason, "fused (W has no EXIF exposure time, f-number and ISO: light judged by mean luma only)")
        let dark = Gate.decide(
            wide: FrameMeasurement(exposure: ExposureSettings(exposureTime: 0.01), meanLuma: 0.05, noise: 0.002),
            tele: noEXIF, zoomRatio: 2)
        XCTAssertEqual(dark.outcome, .lowLight)
        XCTAssertTrue(dark.reason.contains("mean luma only"), dark.reason)
    }

    func testDecisionRoundTripsThroughJSON() throws {
        let decision = Gate.decide(wide: frame(fNumber: 1.8, iso: 6400), tele: frame(fNumber: 2.8, iso: 6400), zoomRatio: 3, alignment: aligned)
        let decoded = try JSONDecoder().decode(GateDecision.self, from: JSONEncoder().encode(decision))
        XCTAssertEqual(decoded, decision)
        XCTAssertEqual(decoded.thresholds, GateSettings())
    }
}
