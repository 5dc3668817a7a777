import Foundation
import HZHarness
import HZImageIO
import HybridZoom

/// Small synthetic frames with real EXIF, for tests that need JPEGs in a spool.
public enum TestFrames {
    /// A textured colour scene (smooth gradients plus a deterministic pattern), 4:2:0.
    public static func scene(_ size: Size, seed: Int = 1) -> YCbCrImage {
        var luma = Plane(width: size.width, height: size.height)
        for y in 0..<size.height {
            for x in 0..<size.width {
                let wave = sin(Double(x * (seed + 2)) / 7) * cos(Double(y * (seed + 3)) / 5)
                luma[x, y] = Float(0.5 + 0.3 * Double(x) / Double(size.width) - 0.1 * Double(y) / Double(size.height) + 0.15 * wave)
            }
        }
        let chroma = YCbCrImage.chroma420Size(for: size)
        return YCbCrImage(
            y: luma, cb: Plane(width: chroma.width, height: chroma.height, value: 0.45),
            cr: Plane(width: chroma.width, height: chroma.height, value: 0.55))
    }

    /// Disks apart from each other on grey, one in each cell of a 4 × 3 grid, blurred: smooth curved
    /// edges and no corners (cups seen from above).
    public static func cups(_ size: Size, random: inout SeededRandom) -> Plane {
        var scene = Plane(width: size.width, height: size.height, value: 0.5)
        let cell = SIMD2(Double(size.width) / 4, Double(size.height) / 3)
        for row in 0..<3 {
            for column in 0..<4 {
                let radius = Double.random(in: 0.25...0.4, using: &random) * cell.y, value = Float.random(in: 0.15...0.85, using: &random)
                let slack = cell / 2 - radius
                let centre =
                    (SIMD2(Double(column), Double(row)) + 0.5) * cell
                    + SIMD2(Double.random(in: -1...1, using: &random), Double.random(in: -1...1, using: &random)) * slack * 0.8
                for y in 0..<size.height {
                    for x in 0..<size.width {
                        let d = SIMD2(Double(x), Double(y)) - centre
                        if (d * d).sum() <= radius * radius { scene[x, y] = value }
                    }
                }
            }
        }
        return gaussianBlur(scene, sigma: 3)
    }

    /// A JPEG of `scene` stamped with `time` (UTC, with sub-seconds) as a camera would.
    public static func jpeg(_ size: Size = Size(width: 96, height: 64), time: Date, seed: Int = 1) throws -> [UInt8] {
        var exif = EXIF.stamped(time: time)
        exif.make = "hzsr-test"
        exif.exposureTime = 1.0 / 200
        exif.iso = 100
        return try encodeJPEG(scene(size, seed: seed), quality: 90, exifPayload: exif.app1Payload())
    }

    /// A W and T capture of a real photo (a small fixture) simulated in daylight, as the cameras'
    /// JPEGs: a pair the pipeline aligns and fuses. T sits where the calibration says, without
    /// parallax, occluders or defocus, so that nothing holds its detail back.
    /// With `seed`, another drawing of the rig (T's offset and parallax included).
    public static func simulatedPair(
        frame: Size = Size(width: 160, height: 120), zoomRatio: Double = 2,
        time: Date = Date(timeIntervalSince1970: 0), seed: UInt64? = nil
    ) throws -> (wide: [UInt8], tele: [UInt8]) {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HZImageIOTests/Fixtures/canon-sx530hs.jpg")
        let photo = try decodeJPEG([UInt8](Data(contentsOf: fixture)), maxPixels: 1_000_000).image.floats
        var parameters = RigParameters.draw(
            seed: seed ?? 8, frameSize: frame, zoomRatio: zoomRatio, exposure: .automatic(sceneEV100: 12), ranges: .classic)
        if seed == nil { (parameters.teleOffset, parameters.parallax) = ([0, 0], 0) }
        (parameters.occluders, parameters.defocus) = (0, false)
        let capture = RigSimulation(photo: photo, parameters: parameters).capture(at: time)
        return (
            try encodeJPEG(capture.wide, quality: 92, exifPayload: capture.wideEXIF.app1Payload()),
            try encodeJPEG(capture.tele, quality: 92, exifPayload: capture.teleEXIF.app1Payload())
        )
    }
}

/// A folder under the system's temporary folder, removed when the value is released.
public final class ScratchFolder {
    public let path: String

    public init(_ name: String = "hzsr-test") throws {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` at `relative` (creating folders) and returns the absolute path.
    @discardableResult
    public func write(_ bytes: [UInt8], to relative: String) throws -> String {
        let full = "\(path)/\(relative)"
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }

    /// Files below `relative`, as paths relative to it, sorted.
    /// Writes `bytes` to a file of `folder` whose name is given as bytes (it need not be UTF-8).
    public func write(_ bytes: [UInt8], toFolder folder: String, rawName: [UInt8]) throws {
        try FileManager.default.createDirectory(atPath: "\(path)/\(folder)", withIntermediateDirectories: true)
        let file = Array("\(path)/\(folder)/".utf8) + rawName + [0]
        let descriptor = file.withUnsafeBufferPointer {
            $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        }
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(descriptor) }
        guard bytes.withUnsafeBytes({ Foundation.write(descriptor, $0.baseAddress, $0.count) }) == bytes.count else {
            throw CocoaError(.fileWriteUnknown)
        }
    }

    public func files(in relative: String) -> [String] {
        let base = "\(path)/\(relative)"
        return ((FileManager.default.enumerator(atPath: base)?.allObjects as? [String]) ?? [])
            .filter {
                var dir: ObjCBool = false
                return FileManager.default.fileExists(atPath: "\(base)/\($0)", isDirectory: &dir) && !dir.boolValue
            }
            .sorted()
    }
}
