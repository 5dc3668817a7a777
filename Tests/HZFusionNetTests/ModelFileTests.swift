import Foundation
import HZFusionNet
import XCTest

/// A weights file that cannot be used is a thrown error naming the file and what is wrong.
final class ModelFileTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("hzsr-fusion-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: folder)
    }

    func testMissingFile() {
        assertRefused(
            try FusionNetwork(contentsOf: folder.appendingPathComponent("absent.safetensors").path),
            mentioning: "absent.safetensors", "no such file")
    }

    func testTruncatedFile() throws {
        let bytes = try FusionFixture.weightBytes()
        let path = try write(Array(bytes.prefix(bytes.count / 2)), to: "cut.safetensors")
        assertRefused(try FusionNetwork(contentsOf: path), mentioning: "cut.safetensors", "outside the", "truncated")
        let stub = try write([1, 2, 3], to: "stub.safetensors")
        assertRefused(try FusionNetwork(contentsOf: stub), mentioning: "stub.safetensors", "truncated: 3 bytes")
    }

    func testHeaderThatIsNotJSON() throws {
        let bytes: [UInt8] = [4, 0, 0, 0, 0, 0, 0, 0] + Array("nope".utf8)
        assertRefused(
            try FusionNetwork(safetensors: bytes, name: "text.safetensors"),
            mentioning: "text.safetensors", "not a JSON object")
    }

    func testWrongShape() throws {
        let bytes = try editingHeader(FusionFixture.weightBytes()) { header in
            header["convs.enc2a.weight"]!["shape"] = [48, 31, 3, 3]
        }
        assertRefused(
            try FusionNetwork(safetensors: bytes, name: "fusion.safetensors"),
            mentioning:
                "fusion.safetensors: convs.enc2a.weight has shape [48, 31, 3, 3], expected [48, 32, 3, 3]")
    }

    func testWrongDtype() throws {
        let bytes = try editingHeader(FusionFixture.weightBytes()) { header in
            header["convs.head.bias"]!["dtype"] = "F16"
        }
        assertRefused(
            try FusionNetwork(safetensors: bytes, name: "half.safetensors"),
            mentioning: "half.safetensors: convs.head.bias has dtype F16, expected F32")
    }

    func testMissingAndUnexpectedTensors() throws {
        let missing = try editingHeader(FusionFixture.weightBytes()) { $0["convs.dec1.bias"] = nil }
        assertRefused(
            try FusionNetwork(safetensors: missing, name: "short.safetensors"),
            mentioning: "short.safetensors: convs.dec1.bias is missing")
        let extra = try editingHeader(FusionFixture.weightBytes()) { header in
            header["convs.dec9.bias"] = header["convs.dec1.bias"]
        }
        assertRefused(
            try FusionNetwork(safetensors: extra, name: "long.safetensors"),
            mentioning: "long.safetensors", "convs.dec9.bias")
    }

    func testOffsetsOutsideTheData() throws {
        let bytes = try editingHeader(FusionFixture.weightBytes()) { header in
            header["convs.enc0.bias"]!["data_offsets"] = [0, 1 << 30]
        }
        assertRefused(
            try FusionNetwork(safetensors: bytes, name: "far.safetensors"),
            mentioning: "far.safetensors: convs.enc0.bias has data_offsets [0, 1073741824] outside the")
    }

    func testOtherArchitecture() throws {
        let bytes = try editingHeader(FusionFixture.weightBytes()) { header in
            header["__metadata__"] = ["architecture": "hzsr-fusion-unet-0"]
        }
        assertRefused(
            try FusionNetwork(safetensors: bytes, name: "old.safetensors"),
            mentioning: "old.safetensors", "hzsr-fusion-unet-0", "expected hzsr-fusion-unet-1")
    }

    func testActivationRangesThatAreNotUsable() throws {
        let text = try XCTUnwrap(FusionFixture.network().metadata["activation_ranges"])
        let fixture = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Double])
        let zeroPool = String(decoding: try JSONSerialization.data(withJSONObject: fixture.merging(["pool1": 0]) { $1 }), as: UTF8.self)
        for (ranges, problem) in [
            ("[1, 2]", "activation_ranges is not a JSON map of numbers"),
            ("{\"enc1\": 2}", "activation_ranges has no usable range for dec2"),
            (zeroPool, "activation_ranges has no usable range for pool1"),
        ] {
            let bytes = try editingHeader(FusionFixture.weightBytes()) { header in
                header["__metadata__"]?["activation_ranges"] = ranges
            }
            assertRefused(try FusionNetwork(safetensors: bytes, name: "ranges.safetensors"), mentioning: "ranges.safetensors", problem)
        }
    }

    /// A damaged file whose values are no trained network's: a NaN or an infinity would make
    /// every output wrong (in 8 bits, trap), a huge value overflow the floats.
    func testWeightsThatAreNotFiniteOrAreHuge() throws {
        for (value, shown) in [(Float.nan, "nan"), (.infinity, "inf"), (3e38, "3e+38")] {
            let bytes = try editingTensor(FusionFixture.weightBytes(), "convs.enc2a.weight") { $0[5] = value }
            assertRefused(
                try FusionNetwork(safetensors: bytes, name: "bad.safetensors"),
                mentioning: "bad.safetensors: convs.enc2a.weight holds \(shown) at index 5, where every value must be finite")
        }
    }

    /// The format gives each byte of data to one tensor: two tensors on the same bytes would
    /// read one's values as the other's.
    func testTensorsThatShareTheirBytes() throws {
        let bytes = try editingHeader(FusionFixture.weightBytes()) { header in
            header["convs.dec2.bias"]!["data_offsets"] = header["convs.enc2b.bias"]!["data_offsets"]
        }
        assertRefused(try FusionNetwork(safetensors: bytes, name: "shared.safetensors"), mentioning: "shared.safetensors", "overlap or leave a gap")
    }

    /// Ranges are used as floats: 10⁻⁵⁰ is 0 there, 10³⁹ an infinity.
    func testActivationRangesOutsideFloats() throws {
        let text = try XCTUnwrap(FusionFixture.network().metadata["activation_ranges"])
        let fixture = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Double])
        for range in [1e-50, 1e39] {
            let ranges = String(decoding: try JSONSerialization.data(withJSONObject: fixture.merging(["enc2a": range]) { $1 }), as: UTF8.self)
            let bytes = try editingHeader(FusionFixture.weightBytes()) { $0["__metadata__"]?["activation_ranges"] = ranges }
            assertRefused(
                try FusionNetwork(safetensors: bytes, name: "ranges.safetensors"), mentioning: "no usable range for enc2a", "must lie within")
        }
    }

    func testABaseSigmaNoBlurCanUse() throws {
        for sigma in ["inf", "1e12", "0", "85.4"] {
            let bytes = try editingHeader(FusionFixture.weightBytes()) { $0["__metadata__"]?["base_sigma"] = sigma }
            assertRefused(
                try NetworkFusion(network: FusionNetwork(safetensors: bytes, name: "sigma.safetensors")),
                mentioning: "sigma.safetensors: base_sigma '\(sigma)' is not a number above 0 and at most 85.3")
        }
        // The largest the network's 256-pixel halo holds is accepted.
        let bytes = try editingHeader(FusionFixture.weightBytes()) { $0["__metadata__"]?["base_sigma"] = "85.3" }
        XCTAssertNotNil(try NetworkFusion(network: FusionNetwork(safetensors: bytes, name: "sigma.safetensors")).base)
    }

    // MARK: Helpers

    private func write(_ bytes: [UInt8], to name: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    private func assertRefused<T>(
        _ expression: @autoclosure () throws -> T, mentioning fragments: String...,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            XCTAssertTrue(error is SafeTensorsError, "\(error) is not a SafeTensorsError", file: file, line: line)
            let message = String(describing: error)
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "\"\(message)\" does not mention \(fragment)", file: file, line: line)
            }
        }
    }
}
