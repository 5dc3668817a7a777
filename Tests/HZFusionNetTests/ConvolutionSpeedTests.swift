import HZFusionNet
import XCTest

final class ConvolutionSpeedTests: XCTestCase {
    func testBestConvolutionIsOneOfTheCases() throws {
        let best = try ConvolutionSpeed.best(runs: 1)
        XCTAssertTrue(ConvolutionSpeed.cases.contains { $0 == (best.channels, best.side) })
        XCTAssertGreaterThan(best.gflops, 1)
        XCTAssertTrue(best.description.hasPrefix("\(best.channels)→\(best.channels) 3×3 at \(best.side)²: "))
    }
}
