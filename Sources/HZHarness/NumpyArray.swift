import Foundation
import HybridZoom

/// NumPy `.npy` files (format version 1.0, little-endian, C order), so that Python can read the
/// harness's planes, flows and masks and hand back its own.
///
/// Planes are float32 `(H, W)`; several planes of one size are float32 `(H, W, C)` with the channels
/// interleaved (a flow is `(H, W, 2)`: u then v), or uint8 `(H, W, C)` when read as an 8-bit image;
/// masks are uint8 `(H, W)` holding 0 or 1.
public enum NumpyFile {
    /// Writes `plane` as float32 `(H, W)`.
    public static func write(_ plane: Plane, to path: String) throws {
        let array = NumpyArray(
            dtype: .float32, shape: [plane.height, plane.width],
            data: littleEndianBytes(plane.pixels))
        try array.write(to: path)
    }

    /// Writes same-sized planes as float32 `(H, W, C)`: `array[y, x, c]` is `channels[c][x, y]`.
    public static func write(_ channels: [Plane], to path: String) throws {
        guard let first = channels.first else {
            throw NumpyError(path: path, problem: "there are no channels to write")
        }
        precondition(channels.allSatisfy { $0.size == first.size }, "channels differ in size")
        var interleaved = [Float](repeating: 0, count: first.size.pixelCount * channels.count)
        for (channel, plane) in channels.enumerated() {
            for (pixel, value) in plane.pixels.enumerated() {
                interleaved[pixel * channels.count + channel] = value
            }
        }
        let array = NumpyArray(
            dtype: .float32, shape: [first.height, first.width, channels.count],
            data: littleEndianBytes(interleaved))
        try array.write(to: path)
    }

    /// Writes `mask` as uint8 `(H, W)`: 1 where the mask is ≥ 0.5, else 0 (uint8 rather than bool so
    /// that it also averages and plots; `.astype(bool)` in NumPy makes it an index).
    public static func writeMask(_ mask: Plane, to path: String) throws {
        let array = NumpyArray(
            dtype: .uint8, shape: [mask.height, mask.width],
            data: mask.pixels.map { $0 >= 0.5 ? 1 : 0 })
        try array.write(to: path)
    }

    /// Reads a float32 `(H, W)` file.
    public static func readPlane(at path: String) throws -> Plane {
        let array = try NumpyArray(contentsOf: path, dtypes: [.float32], dimensions: 2)
        return Plane(width: array.shape[1], height: array.shape[0], pixels: floats(array.data))
    }

    /// Reads a float32 `(H, W, C)` file as C planes; a uint8 one (an 8-bit image) is scaled by
    /// 1/255 to [0, 1].
    public static func readChannels(at path: String) throws -> [Plane] {
        let array = try NumpyArray(contentsOf: path, dtypes: [.float32, .uint8], dimensions: 3)
        let (height, width, count) = (array.shape[0], array.shape[1], array.shape[2])
        let values = array.dtype == .uint8 ? array.data.map { Float($0) / 255 } : floats(array.data)
        return (0..<count).map { channel in
            Plane(
                width: width, height: height,
                pixels: (0..<(width * height)).map { values[$0 * count + channel] })
        }
    }

    /// Reads a uint8 or bool `(H, W)` file (ours, or NumPy's `numpy.save` of a bool array) as a mask:
    /// 1 where the byte is nonzero, else 0.
    public static func readMask(at path: String) throws -> Plane {
        let array = try NumpyArray(contentsOf: path, dtypes: [.uint8, .bool], dimensions: 2)
        return Plane(width: array.shape[1], height: array.shape[0], pixels: array.data.map { $0 == 0 ? 0 : 1 })
    }

    private static func littleEndianBytes(_ values: [Float]) -> [UInt8] {
        values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Array($0) }
    }

    private static func floats(_ bytes: [UInt8]) -> [Float] {
        bytes.withUnsafeBytes { raw in
            (0..<(bytes.count / 4)).map { index in
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
            }
        }
    }
}

/// A problem with an `.npy` file, naming the file.
public struct NumpyError: Error, CustomStringConvertible {
    public var path: String
    public var problem: String

    public var description: String { "\(path): \(problem)" }
}

/// The element types the harness exchanges, by their NumPy type strings.
enum NumpyDType: String {
    case float32 = "<f4"
    case uint8 = "|u1"
    case bool = "|b1"

    var itemSize: Int { self == .float32 ? 4 : 1 }
}

/// An array as stored in a version 1.0 `.npy` file: the magic string, the version, a little-endian
/// 2-byte header length, a Python dict literal describing dtype, order and shape, then the raw data.
struct NumpyArray {
    var dtype: NumpyDType
    var shape: [Int]
    var data: [UInt8]

    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    private static let version: [UInt8] = [1, 0]
    /// Magic, version and header length: the bytes before the header text.
    private static let preambleLength = 10
    /// Version 1.0 pads the header so that the data starts on a 64-byte boundary.
    private static let alignment = 64

    init(dtype: NumpyDType, shape: [Int], data: [UInt8]) {
        precondition(shape.reduce(1, *) * dtype.itemSize == data.count, "data does not fill shape \(shape)")
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    func write(to path: String) throws {
        do {
            try Data(encodedHeader() + data).write(to: URL(fileURLWithPath: path))
        } catch {
            throw NumpyError(path: path, problem: "cannot write: \(error.localizedDescription)")
        }
    }

    private func encodedHeader() -> [UInt8] {
        var text = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(tupleText(shape)), }"
        let unpadded = Self.preambleLength + text.utf8.count + 1
        text += String(repeating: " ", count: (Self.alignment - unpadded % Self.alignment) % Self.alignment) + "\n"
        let length = UInt16(text.utf8.count)
        return Self.magic + Self.version + [UInt8(length & 0xFF), UInt8(length >> 8)] + Array(text.utf8)
    }

    /// Reads `path`, requiring one of `dtypes` and a shape of `dimensions` axes.
    init(contentsOf path: String, dtypes: [NumpyDType], dimensions: Int) throws {
        func fail(_ problem: String) -> NumpyError { NumpyError(path: path, problem: problem) }
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw fail("cannot read: \(error.localizedDescription)")
        }
        guard bytes.count >= Self.preambleLength, bytes.starts(with: Self.magic) else {
            throw fail("not a .npy file (no \\x93NUMPY magic string)")
        }
        guard Array(bytes[6..<8]) == Self.version else {
            throw fail("format version \(bytes[6]).\(bytes[7]) is not supported (only 1.0)")
        }
        let headerEnd = Self.preambleLength + (Int(bytes[8]) | Int(bytes[9]) << 8)
        guard headerEnd <= bytes.count, let header = String(validating: bytes[Self.preambleLength..<headerEnd], as: UTF8.self) else {
            throw fail("the header is cut short or is not text")
        }
        let fields = try NumpyHeaderFields(header, fail: fail)
        guard let dtype = NumpyDType(rawValue: fields.descr), dtypes.contains(dtype) else {
            throw fail("dtype '\(fields.descr)' is not \(dtypes.map { "'\($0.rawValue)'" }.joined(separator: " or "))")
        }
        guard !fields.fortranOrder else { throw fail("Fortran order is not supported (only C order)") }
        guard fields.shape.count == dimensions else {
            throw fail("shape \(tupleText(fields.shape)) has \(fields.shape.count) axes, expected \(dimensions)")
        }
        let expectedBytes = fields.shape.reduce(1, *) * dtype.itemSize
        guard bytes.count - headerEnd == expectedBytes else {
            throw fail("shape \(tupleText(fields.shape)) needs \(expectedBytes) bytes of data, found \(bytes.count - headerEnd)")
        }
        self.init(dtype: dtype, shape: fields.shape, data: Array(bytes[headerEnd...]))
    }
}

/// A shape as Python writes a tuple: `(3, 4)`, `(5,)`.
private func tupleText(_ shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
}

/// The three entries of an `.npy` header's dict literal, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (480, 640), }`.
private struct NumpyHeaderFields {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    init(_ header: String, fail: (String) -> NumpyError) throws {
        guard let descr = header.firstMatch(of: /'descr'\s*:\s*'([^']*)'/)?.output.1 else {
            throw fail("the header has no 'descr'")
        }
        guard let order = header.firstMatch(of: /'fortran_order'\s*:\s*(True|False)/)?.output.1 else {
            throw fail("the header has no 'fortran_order'")
        }
        guard let tuple = header.firstMatch(of: /'shape'\s*:\s*\(([^)]*)\)/)?.output.1 else {
            throw fail("the header has no 'shape'")
        }
        let dimensions = tuple.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let shape = dimensions.compactMap { Int($0) }
        guard shape.count == dimensions.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw fail("the shape (\(tuple)) is not a tuple of sizes")
        }
        self.descr = String(descr)
        fortranOrder = order == "True"
        self.shape = shape
    }
}
