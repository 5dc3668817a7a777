import Foundation
import HybridZoom

/// Reads what the rasterizer tests check in a PNG: the signature and the IHDR chunk's pixel size.
enum PNGFile {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The image size, or nil when the file is not a PNG starting with IHDR as the standard requires.
    static func size(at path: String) throws -> Size? {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard bytes.count >= 24, bytes.starts(with: signature), bytes[12..<16].elementsEqual("IHDR".utf8) else {
            return nil
        }
        func bigEndian(_ offset: Int) -> Int { bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return Size(width: bigEndian(16), height: bigEndian(20))
    }
}
