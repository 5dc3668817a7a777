import HZFusionNet
import XCTest

final class ConvolutionSpeedTests: XCTestCase {
    func testBestConvolutionIsOneOfTheCases() throws {
        let best = try ConvolutionSpeed.best(runs: 1)
        XCTAssertTrue(ConvolutionSpeed.cases.contains { $0 == (best.channels, best.side) })
        XCTAssertGreaterThan(best.gflops, 1)
        XCTAssertTrue(best.description.hasPrefix("\(best.channels)→\(best.channels) 3×3 at \(best.side)²: "))
        XCTAssertFalse(best.implementation.isEmpty)
        XCTAssertNotEqual(best.implementation, "?")
    }

    /// One name per convolution and pooling, as oneDNN names its implementations (`isa` after a colon).
    func testTheNetworkNamesTheImplementationOfEachPrimitive() throws {
        let names = try FusionNetwork.shipped().implementations(tileSize: 64)
        let poolings = FusionArchitecture.encoder.count - 1
        XCTAssertEqual(names.count, FusionArchitecture.layers.count + poolings)
        for name in names { XCTAssertTrue(name.contains(":"), "\(name) is not an implementation's name") }
    }
}
