import HZFusionNet
import HybridZoom
import XCTest

final class FusionNetworkTests: XCTestCase {
    // MARK: Agreement with PyTorch

    func testUntiledMatchesPyTorch() throws {
        let inputs = try FusionFixture.inputs()
        let fused = try FusionFixture.network().fuse(inputs)
        let difference = maxAbsDifference(fused, try FusionFixture.expected())
        print("fixture 310×250, untiled: max |Swift − PyTorch| = \(difference)")
        XCTAssertLessThanOrEqual(difference, 1e-3)
        // The fixture's residual is about 0.1: the comparison is not of Y_src with itself.
        XCTAssertGreaterThan(maxAbsDifference(fused, inputs.source.plane), 0.1)
    }

    func testSmallTilesMatchPyTorch() throws {
        let inputs = try FusionFixture.inputs()
        let fused = try FusionFixture.network().fuse(inputs, tileSize: 64)
        let difference = maxAbsDifference(fused, try FusionFixture.expected())
        print("fixture 310×250, 64-pixel tiles: max |Swift − PyTorch| = \(difference)")
        XCTAssertLessThanOrEqual(difference, 1e-3)
    }

    // MARK: Tiling

    /// 256-pixel tiles on 1024 × 768: windows of at most 896 pixels, so most tiles have a cut edge
    /// inside the image, where only the halo keeps zero padding away from their output.
    func testTilingChangesNothing() throws {
        let inputs = syntheticInputs(Size(width: 1024, height: 768))
        let network = try FusionFixture.network()
        let untiled = try network.fuse(inputs, tileSize: 1024)
        let tiled = try network.fuse(inputs, tileSize: 256)
        let difference = maxAbsDifference(tiled, untiled)
        print("1024×768, 256-pixel tiles vs untiled: max difference \(difference)")
        XCTAssertLessThanOrEqual(difference, 1e-5)
        XCTAssertGreaterThan(maxAbsDifference(untiled, inputs.source.plane), 0.1)
    }

    // MARK: Written over Ỹ_ref

    /// Handed the only reference to `Ỹ_ref`, `fuse` writes `Y_fusion` over its samples, each
    /// tile's output held until no tile reads those pixels again: 64-pixel tiles on 1000 × 730
    /// (192 tiles on two workers, the last row and column reaching past the image) give what a
    /// run on a copy gives, to the bit. Classical detail added tile by tile, as `NetworkFusion`
    /// adds it, is the whole plane's, to the bit.
    func testWritingOverTheReferenceChangesNothing() throws {
        let size = Size(width: 1000, height: 730)
        let inputs = syntheticInputs(size)
        let (network, base) = (try FusionFixture.network(), ClassicalFusion(bandSplitSigma: 3))
        var expected = try network.fuse(inputs, tileSize: 64)
        base.addDetail(of: inputs, to: &expected)

        let reference = Plane(width: size.width, height: size.height, pixels: inputs.reference.pixels.map { $0 })
        let address = reference.pixels.withUnsafeBufferPointer(\.baseAddress)
        let fused = try network.fuse(
            FusionInputs(source: inputs.source, reference: consume reference, occlusion: inputs.occlusion),
            addingDetailOf: base, tileSize: 64)
        XCTAssertEqual(fused.pixels.withUnsafeBufferPointer(\.baseAddress), address, "Y_fusion is in Ỹ_ref's samples")
        XCTAssertEqual(maxAbsDifference(fused, expected), 0)
        XCTAssertTrue(inputs.reference == syntheticInputs(size).reference, "a shared Ỹ_ref is left alone")
    }

    /// `Y_src` made from W's 8-bit luma for each tile's window, as for large frames, gives what
    /// the held plane gives, to the bit, with classical detail added tile by tile too.
    func testMakingY_srcTileByTileChangesNothing() throws {
        let size = Size(width: 1000, height: 730)
        let synthetic = syntheticInputs(size)
        let wide = BytePlane(
            width: 530, height: 400, pixels: (0..<(530 * 400)).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) })
        let view = TeleView(crop: Rect(x: 12.5, y: 20.25, width: 501, height: 365.75))
        let made = SourceLuma(wide: wide, view: view, size: size, largestHeld: 0)
        XCTAssertTrue(made.isMadeAsRead)
        let held = SourceLuma(DigitalZoom.render(wide, view: view, to: size))
        let (network, base) = (try FusionFixture.network(), ClassicalFusion(bandSplitSigma: 3))
        func fused(_ source: SourceLuma) throws -> Plane {
            try network.fuse(
                FusionInputs(source: source, reference: synthetic.reference, occlusion: synthetic.occlusion),
                addingDetailOf: base, tileSize: 64)
        }
        XCTAssertEqual(maxAbsDifference(try fused(made), try fused(held)), 0)
    }

    // MARK: 8-bit coarse levels

    /// Quantizing the coarse levels changes the output by a fraction of an 8-bit grey level on
    /// average, against a residual of about 0.1 (these random weights are harsher on 8 bits than
    /// trained ones), and tiling still changes nothing.
    func testInt8StaysCloseToPyTorchAndTilesExactly() throws {
        let inputs = try FusionFixture.inputs()
        let network = try FusionFixture.int8Network()
        XCTAssertEqual(network.precision, .int8)
        let fused = try network.fuse(inputs)
        let expected = try FusionFixture.expected()
        let meanError = zip(fused.pixels, expected.pixels).map { abs($0 - $1) }.reduce(0, +) / Float(fused.pixels.count)
        let maxError = maxAbsDifference(fused, expected)
        print("fixture 310×250, int8: mean |Swift − PyTorch| = \(meanError), max \(maxError)")
        XCTAssertLessThanOrEqual(meanError, 1.0 / 255)
        XCTAssertLessThanOrEqual(maxError, 0.05)
        let float32 = try FusionFixture.network().fuse(inputs)
        XCTAssertGreaterThan(maxAbsDifference(fused, float32), 0, "the 8-bit run is not the float one")
        let tiled = try network.fuse(inputs, tileSize: 64)
        XCTAssertLessThanOrEqual(maxAbsDifference(tiled, fused), 1e-4)
    }

    /// A pruned channel (a kernel of zeros, a bias) runs in 8 bits as in floats: its step used
    /// to be the smallest float, which made its bias infinite in the accumulator's units.
    func testAKernelOfZerosRunsIn8BitsAsInFloats() throws {
        var bytes = try editingTensor(FusionFixture.weightBytes(), "convs.enc2a.weight") { values in
            for index in 0..<(values.count / 48) { values[index] = 0 }
        }
        bytes = try editingTensor(bytes, "convs.enc2a.bias") { $0[0] = 1 }
        let file = try FusionNetwork(safetensors: bytes, name: "pruned.safetensors")
        let inputs = try FusionFixture.inputs()
        let int8 = try XCTUnwrap(file.running(at: .int8)).fuse(inputs)
        let float32 = try XCTUnwrap(file.running(at: .float32)).fuse(inputs)
        XCTAssertLessThanOrEqual(zip(int8.pixels, float32.pixels).map { abs($0 - $1) }.reduce(0, +) / Float(int8.pixels.count), 1.0 / 255)
    }

    func testWeightsWithoutActivationRangesRunInFloats() throws {
        let edited = try editingHeader(FusionFixture.weightBytes()) { header in header["__metadata__"]?["activation_ranges"] = nil }
        let network = try FusionNetwork(safetensors: edited, name: "plain.safetensors")
        XCTAssertEqual(network.precision, .float32)
        XCTAssertNil(network.running(at: .int8))
    }

    func testShippedModelRunsInt8WhereTheCPUHasVNNI() throws {
        XCTAssertEqual(try FusionNetwork.shipped().precision, FusionPrecision.cpuRunsInt8Fast ? .int8 : .float32)
    }

    // MARK: Sizes

    /// Any size works, and is the image padded by edge replication to multiples of 64, run, and
    /// cropped, which is what PyTorch's `fuse()` does.
    func testOddSizesArePaddedByEdgeReplication() throws {
        let network = try FusionFixture.network()
        for size in [Size(width: 1, height: 1), Size(width: 97, height: 61), Size(width: 130, height: 200)] {
            let inputs = syntheticInputs(size)
            let fused = try network.fuse(inputs)
            XCTAssertEqual(fused.size, size)
            let padded = [inputs.source.plane, inputs.reference, inputs.occlusion.plane].map(replicatingEdges)
            let fusedPadded = try network.fuse(FusionInputs(source: padded[0], reference: padded[1], occlusion: padded[2]))
            XCTAssertLessThanOrEqual(maxAbsDifference(fused, cropped(fusedPadded, to: size)), 1e-6, "\(size)")
            let tiled = try network.fuse(inputs, tileSize: 64)
            XCTAssertLessThanOrEqual(maxAbsDifference(tiled, fused), 1e-5, "\(size)")
        }
    }

    func testEmptyImageGivesEmptyImage() throws {
        let empty = Plane(width: 0, height: 0)
        XCTAssertEqual(try FusionFixture.network().fuse(FusionInputs(source: empty, reference: empty, occlusion: empty)), empty)
    }

    // MARK: Shipped model

    func testShippedModelLoadsAndRuns() throws {
        let inputs = syntheticInputs(Size(width: 200, height: 100))
        let fused = try FusionNetwork.shipped().fuse(inputs)
        XCTAssertEqual(fused.size, inputs.source.size)
        XCTAssertTrue(fused.pixels.allSatisfy(\.isFinite))
    }

    // MARK: Helpers

    private func replicatingEdges(_ plane: Plane) -> Plane {
        let size = Size(width: FusionArchitecture.padded(plane.width), height: FusionArchitecture.padded(plane.height))
        return Plane(
            width: size.width, height: size.height,
            pixels: (0..<size.pixelCount).map { index in
                plane[min(index % size.width, plane.width - 1), min(index / size.width, plane.height - 1)]
            })
    }

    private func cropped(_ plane: Plane, to size: Size) -> Plane {
        Plane(
            width: size.width, height: size.height,
            pixels: (0..<size.pixelCount).map { index in
                plane[index % size.width, index / size.width]
            })
    }
}
