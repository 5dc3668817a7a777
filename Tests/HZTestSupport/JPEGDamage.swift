/// Valid JPEGs broken in the ways that once slipped past the decoder: a harmless warning first,
/// then something fatal. Each throws when the file lacks the segment it changes.
public enum JPEGDamage {
    public struct MissingSegment: Error, CustomStringConvertible {
        public let description: String
    }

    /// The JFIF APP0 major revision set to 0x21, which libjpeg only warns about; a file without
    /// a JFIF segment (as ours, which carry EXIF) gets one after SOI.
    public static func unknownJFIFRevision(_ jpeg: [UInt8]) throws -> [UInt8] {
        var bytes = jpeg
        guard let jfif = firstIndex(of: Array("JFIF\0".utf8), in: bytes) else {
            // Length 16, "JFIF\0", revision 33.01, no density units, 1:1, no thumbnail.
            bytes.insert(contentsOf: [0xFF, 0xE0, 0x00, 0x10] + Array("JFIF\0".utf8) + [0x21, 0x01, 0, 0, 1, 0, 1, 0, 0], at: 2)
            return bytes
        }
        bytes[jfif + 5] = 0x21
        return bytes
    }

    /// The luma component's sampling factors in the frame header (0x23 is 2×3).
    public static func lumaSampling(_ factors: UInt8, _ jpeg: [UInt8]) throws -> [UInt8] {
        var bytes = jpeg
        // Marker (2), length (2), precision (1), height (2), width (2), count (1), luma id (1).
        bytes[try offset(of: [0xFF, 0xC0], in: bytes) + 11] = factors
        return bytes
    }

    /// Every DQT segment removed: the scan then uses tables nobody defined.
    public static func withoutQuantizationTables(_ jpeg: [UInt8]) throws -> [UInt8] {
        var bytes = jpeg
        _ = try offset(of: [0xFF, 0xDB], in: bytes)
        while let table = firstIndex(of: [0xFF, 0xDB], in: bytes) {
            let length = Int(bytes[table + 2]) << 8 | Int(bytes[table + 3])
            bytes.removeSubrange(table..<table + 2 + length)
        }
        return bytes
    }

    /// The first scan's first component reading DC and AC Huffman tables 3, which no DHT defines.
    public static func undefinedHuffmanTable(_ jpeg: [UInt8]) throws -> [UInt8] {
        var bytes = jpeg
        // Marker (2), length (2), component count (1), first component's id (1), then its tables.
        bytes[try offset(of: [0xFF, 0xDA], in: bytes) + 6] = 0x33
        return bytes
    }

    /// The scan cut in the middle and the file closed with EOI: libjpeg warns of a premature end
    /// and fills the rest with a guess.
    public static func cutShortScan(_ jpeg: [UInt8]) throws -> [UInt8] {
        let scan = try offset(of: [0xFF, 0xDA], in: jpeg)
        return Array(jpeg[..<((scan + jpeg.count) / 2)]) + [0xFF, 0xD9]
    }

    /// The frame header claiming `width`×`height` (up to 65535 each), the scan unchanged: what
    /// intake reads before decoding sees a frame that size.
    public static func claimingSize(_ width: Int, _ height: Int, _ jpeg: [UInt8]) throws -> [UInt8] {
        var bytes = jpeg
        // Marker (2), length (2), precision (1), then height and width, big-endian.
        let sof = try offset(of: [0xFF, 0xC0], in: bytes)
        for (index, value) in [height >> 8, height & 0xFF, width >> 8, width & 0xFF].enumerated() {
            bytes[sof + 5 + index] = UInt8(value)
        }
        return bytes
    }

    private static func offset(of pattern: [UInt8], in bytes: [UInt8]) throws -> Int {
        guard let index = firstIndex(of: pattern, in: bytes) else {
            throw MissingSegment(description: "no \(pattern) in a JPEG of \(bytes.count) bytes")
        }
        return index
    }
}

/// Where the first occurrence of `pattern` starts in `bytes`, from `start` on.
public func firstIndex(of pattern: [UInt8], in bytes: [UInt8], from start: Int = 0) -> Int? {
    stride(from: start, through: bytes.count - pattern.count, by: 1).first { index in
        bytes[index..<index + pattern.count].elementsEqual(pattern)
    }
}
