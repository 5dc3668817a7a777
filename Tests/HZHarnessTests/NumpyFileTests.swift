import Foundation
import HZHarness
import HZTestSupport
import HybridZoom
import XCTest

final class NumpyFileTests: XCTestCase {
    private var folder: ScratchFolder!

    override func setUpWithError() throws {
        folder = try ScratchFolder("hzsr-npy")
    }

    /// A 4 × 3 plane whose pixel (x, y) is (10y + x) / 100, so (x 2, y 1) is 0.12.
    private let plane = Plane(width: 4, height: 3, pixels: (0..<12).map { Float(10 * ($0 / 4) + $0 % 4) / 100 })

    private func path(_ name: String) -> String { "\(folder.path)/\(name)" }

    // MARK: Round trips

    func testPlaneRoundTrip() throws {
        try NumpyFile.write(plane, to: path("plane.npy"))
        XCTAssertEqual(try NumpyFile.readPlane(at: path("plane.npy")), plane)
    }

    func testChannelsRoundTrip() throws {
        let v = Plane(width: 4, height: 3, pixels: plane.pixels.map { -$0 * 7 })
        try NumpyFile.write([plane, v], to: path("flow.npy"))
        XCTAssertEqual(try NumpyFile.readChannels(at: path("flow.npy")), [plane, v])
    }

    func testMaskRoundTripThresholdsAtOneHalf() throws {
        let mask = Plane(width: 3, height: 1, pixels: [0.2, 0.5, 0.9])
        try NumpyFile.writeMask(mask, to: path("mask.npy"))
        XCTAssertEqual(try NumpyFile.readMask(at: path("mask.npy")).pixels, [0, 1, 1])
    }

    /// Version 1.0 pads the header with spaces and a newline so that the data starts at a multiple of 64.
    func testHeaderIsPaddedToSixtyFourBytes() throws {
        try NumpyFile.write(plane, to: path("plane.npy"))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path("plane.npy"))))
        let dataStart = 10 + Int(bytes[8]) + Int(bytes[9]) << 8
        XCTAssertEqual(dataStart % 64, 0)
        XCTAssertEqual(bytes[dataStart - 1], UInt8(ascii: "\n"))
        XCTAssertEqual(bytes.count - dataStart, 12 * 4)
        XCTAssertTrue(
            String(decoding: bytes[10..<dataStart], as: UTF8.self)
                .hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"))
    }

    // MARK: NumPy interoperation

    func testNumpyReadsWhatWeWrite() throws {
        try NumpyFile.write(plane, to: path("plane.npy"))
        try NumpyFile.write([plane, plane], to: path("flow.npy"))
        try NumpyFile.writeMask(Plane(width: 4, height: 3, value: 1), to: path("mask.npy"))
        let output = try python(
            """
            import numpy, sys
            for name in ["plane", "flow", "mask"]:
                a = numpy.load(sys.argv[1] + "/" + name + ".npy")
                print(a.dtype, a.shape, float(a[1, 2] if a.ndim == 2 else a[1, 2, 1]))
            """, folder.path)
        XCTAssertEqual(output, "float32 (3, 4) 0.11999999731779099\nfloat32 (3, 4, 2) 0.11999999731779099\nuint8 (3, 4) 1.0\n")
    }

    func testWeReadWhatNumpyWrites() throws {
        _ = try python(
            """
            import numpy, sys
            plane = (numpy.arange(12, dtype=numpy.float32) / 10).reshape(3, 4)
            numpy.save(sys.argv[1] + "/plane.npy", plane)
            numpy.save(sys.argv[1] + "/flow.npy", numpy.stack([plane, -plane], axis=-1))
            numpy.save(sys.argv[1] + "/mask.npy", plane > 0.5)
            numpy.save(sys.argv[1] + "/image.npy", (numpy.arange(24) * 10).astype(numpy.uint8).reshape(3, 4, 2))
            numpy.save(sys.argv[1] + "/double.npy", plane.astype(numpy.float64))
            numpy.save(sys.argv[1] + "/fortran.npy", numpy.asfortranarray(plane))
            """, folder.path)
        let read = try NumpyFile.readPlane(at: path("plane.npy"))
        XCTAssertEqual(read.size, Size(width: 4, height: 3))
        XCTAssertEqual(read[2, 1], 0.6, accuracy: 1e-7)
        let flow = try NumpyFile.readChannels(at: path("flow.npy"))
        XCTAssertEqual(flow.count, 2)
        XCTAssertEqual(flow[0], read)
        XCTAssertEqual(flow[1][3, 2], -1.1, accuracy: 1e-7)
        XCTAssertEqual(try NumpyFile.readMask(at: path("mask.npy")).pixels, read.pixels.map { $0 > 0.5 ? 1 : 0 })
        let image = try NumpyFile.readChannels(at: path("image.npy"))
        XCTAssertEqual(image.count, 2)
        XCTAssertEqual(image[1][2, 1], 130 / 255)  // element (1, 2, 1) is 2 · (1 · 4 + 2) + 1 = 13, times 10
        try assertFails(NumpyFile.readPlane(at: path("double.npy")), mentioning: "double.npy", "'<f8'")
        try assertFails(NumpyFile.readPlane(at: path("fortran.npy")), mentioning: "Fortran order")
    }

    // MARK: Errors

    func testWrongShapesAndBrokenFilesAreNamed() throws {
        try NumpyFile.write([plane], to: path("channels.npy"))
        try assertFails(NumpyFile.readPlane(at: path("channels.npy")), mentioning: "channels.npy", "(3, 4, 1)", "expected 2")
        try assertFails(NumpyFile.readMask(at: path("channels.npy")), mentioning: "'<f4'")

        var truncated = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path("channels.npy"))))
        truncated.removeLast(4)
        try folder.write(truncated, to: "truncated.npy")
        try assertFails(NumpyFile.readChannels(at: path("truncated.npy")), mentioning: "needs 48 bytes", "found 44")

        try folder.write(Array("hello".utf8), to: "text.npy")
        try assertFails(NumpyFile.readPlane(at: path("text.npy")), mentioning: "text.npy", "not a .npy file")
        try assertFails(NumpyFile.readPlane(at: path("missing.npy")), mentioning: "missing.npy", "cannot read")
    }

    private func assertFails<T>(
        _ expression: @autoclosure () throws -> T, mentioning fragments: String...,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            let message = String(describing: error)
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "\"\(message)\" does not mention \(fragment)", file: file, line: line)
            }
        }
    }

    /// Runs a Python 3 script with `arguments` and returns its standard output.
    private func python(_ script: String, _ arguments: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "python3 failed")
        return text
    }
}
