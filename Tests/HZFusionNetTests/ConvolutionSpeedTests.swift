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

    /// One name per convolution and pooling that oneDNN runs, as it names its implementations
    /// (`isa` after a colon). In 8-bit runs the pooling into the 8-bit levels is the project's
    /// own, and the 8-bit convolutions use VNNI.
    func testTheNetworkNamesTheImplementationOfEachPrimitive() throws {
        let network = try FusionNetwork.shipped()
        let names = try network.implementations(tileSize: 64)
        let poolings = FusionArchitecture.encoder.count - 1 - (network.precision == .int8 ? 1 : 0)
        XCTAssertEqual(names.count, FusionArchitecture.layers.count + poolings)
        for name in names { XCTAssertTrue(name.contains(":"), "\(name) is not an implementation's name") }
        if network.precision == .int8 { XCTAssertTrue(names.contains { $0.contains("vnni") }, "\(names)") }
    }
}
