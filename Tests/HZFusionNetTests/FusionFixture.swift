import Foundation
import HZFusionNet
import HZHarness
import HybridZoom
import XCTest

/// The files Training/make_fusion_fixture.py writes into Fixtures/ (see Fixtures/README.md).
enum FusionFixture {
    static func path(_ name: String, _ type: String) throws -> String {
        try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: type, subdirectory: "Fixtures")).path
    }

    /// Seeded random weights whose residual is about 0.1, not the shipped (possibly zero-head)
    /// ones, in floats as PyTorch runs them.
    static func network() throws -> FusionNetwork {
        try XCTUnwrap(FusionNetwork(contentsOf: path("fusion-fixture", "safetensors")).running(at: .float32))
    }

    /// The same with its coarse levels in 8 bits (the file carries activation ranges measured on
    /// `inputs()`), whatever the CPU.
    static func int8Network() throws -> FusionNetwork {
        try XCTUnwrap(FusionNetwork(contentsOf: path("fusion-fixture", "safetensors")).running(at: .int8))
    }

    static func weightBytes() throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path("fusion-fixture", "safetensors"))))
    }

    /// Y_src, Ỹ_ref and M_occ, 310 × 250.
    static func inputs() throws -> FusionInputs {
        let planes = try NumpyFile.readChannels(at: path("fusion-input", "npy"))
        return FusionInputs(source: planes[0], reference: planes[1], occlusion: planes[2])
    }

    /// PyTorch's `model.fuse()` of `inputs()`.
    static func expected() throws -> Plane {
        try NumpyFile.readPlane(at: path("fusion-expected", "npy"))
    }
}

/// Three planes of `size` with smooth shading, fine texture and a soft blob, like the fixture's,
/// without a file: `x` and `y` stir a cheap hash so the texture never repeats.
func syntheticInputs(_ size: Size) -> FusionInputs {
    func plane(_ value: (Double, Double) -> Double) -> Plane {
        Plane(
            width: size.width, height: size.height,
            pixels: (0..<size.pixelCount).map { index in
                Float(value(Double(index % size.width), Double(index / size.width)))
            })
    }
    func texture(_ x: Double, _ y: Double) -> Double {
        let hash = (Int(x) &* 73_856_093) ^ (Int(y) &* 19_349_663)
        return Double(hash & 0xFF) / 255 - 0.5
    }
    let source = plane { x, y in 0.5 + 0.25 * sin(x / 23) * cos(y / 17) + 0.1 * texture(x, y) }
    let reference = plane { x, y in 0.5 + 0.25 * sin((x - 3) / 23) * cos((y - 2) / 17) + 0.1 * texture(x - 3, y - 2) }
    let (cx, cy) = (0.6 * Double(size.width), 0.4 * Double(size.height))
    let occlusion = plane { x, y in min(1, 1.5 * exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * 40 * 40))) }
    return FusionInputs(source: source, reference: reference, occlusion: occlusion)
}

/// `bytes` (a safetensors file) with its JSON header changed by `edit` and the data kept.
func editingHeader(_ bytes: [UInt8], _ edit: (inout [String: [String: Any]]) -> Void) throws -> [UInt8] {
    let length = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    var header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: [String: Any]])
    edit(&header)
    let text = try JSONSerialization.data(withJSONObject: header)
    let newLength = UInt64(text.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: newLength >> (8 * $0)) } + Array(text) + Array(bytes[(8 + length)...])
}

/// `bytes` (a safetensors file) with the F32 values of `tensor` changed by `edit`.
func editingTensor(_ bytes: [UInt8], _ tensor: String, _ edit: (inout [Float]) -> Void) throws -> [UInt8] {
    let length = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: [String: Any]])
    let offsets = try XCTUnwrap(header[tensor]?["data_offsets"] as? [Int])
    let start = 8 + length + offsets[0], count = (offsets[1] - offsets[0]) / 4
    var values = (0..<count).map { index in
        Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[start + 4 * index + $1]) << (8 * $1) })
    }
    edit(&values)
    var edited = bytes
    for (index, value) in values.enumerated() {
        for byte in 0..<4 { edited[start + 4 * index + byte] = UInt8(truncatingIfNeeded: value.bitPattern >> (8 * byte)) }
    }
    return edited
}

func maxAbsDifference(_ a: Plane, _ b: Plane) -> Float {
    precondition(a.size == b.size)
    return zip(a.pixels, b.pixels).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
