import HybridZoom
import XCTest

final class StageTimingsTests: XCTestCase {
    /// The pipeline times blending in two stretches (the maps before fusion, the blend after):
    /// the stage is listed once, where it first ran, with both stretches' time; parts stay out.
    func testAStageRunTwiceIsListedOnceAndSummed() {
        var timings = StageTimings()
        timings.record(.align, 5)
        timings.record(.blend, 2)
        timings.record(.fuse, 7)
        timings.record(.blend, 1)
        var parts = StageTimings()
        parts.record(.source, 0.5)  // any name: it becomes a part
        timings.append(parts, under: .blend)
        XCTAssertEqual(timings.stages, ["align", "blend", "fuse"])
        XCTAssertEqual(timings[.blend], 3)
        XCTAssertEqual(timings.total, 15)
    }
}
