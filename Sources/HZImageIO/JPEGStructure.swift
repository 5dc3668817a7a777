import HybridZoom

/// The marker layout of a JPEG byte stream, found in one pass without decoding anything.
///
/// A file watcher uses `status` to tell a finished file from one still being written, so the walk
/// must stay cheap (no allocation per byte) and must not trap on any input.
public struct JPEGStructure: Sendable, Equatable {
    public enum Status: Sendable, Equatable {
        /// SOI, segments, at least one scan and EOI; `endOffset` is just past EOI. Bytes after
        /// EOI are allowed, as some writers pad files.
        case complete(endOffset: Int)
        case empty
        /// The data does not start with the SOI marker.
        case notJPEG
        /// The data ends before EOI: more bytes may still be coming.
        case truncated(String)
        /// The bytes present can never become a valid JPEG, however many follow.
        case malformed(String)
    }

    public let status: Status
    /// Width and height from the first frame header (SOF), when the walk got that far.
    public let frameSize: Size?
    /// Where the payload of the first APP1 segment starting with "Exif\0\0" lies, header included.
    public let exifPayloadRange: Range<Int>?
}

extension JPEGStructure {
    public init(scanning bytes: [UInt8]) {
        self = bytes.withUnsafeBufferPointer { buffer in
            var walker = MarkerWalker(bytes: buffer)
            let status = walker.walk()
            return JPEGStructure(
                status: status, frameSize: walker.frameSize,
                exifPayloadRange: walker.exifPayloadRange)
        }
    }
}

/// Walks markers from SOI to EOI, noting the frame size and the EXIF payload on the way.
/// Failures travel as a thrown `Stop`, so each step reads as the path through a valid file.
private struct MarkerWalker {
    private enum Stop: Error {
        case truncated(String)
        case malformed(String)
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var offset = 0
    private(set) var frameSize: Size?
    private(set) var exifPayloadRange: Range<Int>?
    private var sawScan = false
    /// Where bytes that are no marker were first skipped between segments, if anywhere: a
    /// failure after them is most likely theirs.
    private var strayBytesAt: Int?

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func walk() -> JPEGStructure.Status {
        guard !bytes.isEmpty else { return .empty }
        // A lone FF may be the first half of SOI in a file still being written.
        guard bytes[0] == 0xFF, bytes.count == 1 || bytes[1] == 0xD8 else { return .notJPEG }
        do throws(Stop) {
            offset = 2
            return .complete(endOffset: try walkToEOI())
        } catch {
            let after = strayBytesAt.map { " (after stray bytes at offset \($0))" } ?? ""
            switch error {
            case .truncated(let reason): return .truncated(reason + after)
            case .malformed(let reason): return .malformed(reason + after)
            }
        }
    }

    private var missingEOI: Stop { .truncated("no EOI marker after \(bytes.count) bytes") }

    /// Returns the offset just past EOI.
    private mutating func walkToEOI() throws(Stop) -> Int {
        while true {
            let (code, markerOffset) = try nextMarker()
            switch code {
            case 0xD9:
                guard sawScan else { throw .malformed("EOI at offset \(markerOffset) before any scan") }
                return offset
            case 0x01:
                continue  // TEM stands alone, without a length
            case 0xD8, 0xD0...0xD7:
                throw .malformed("unexpected marker FF\(code.hexByte) at offset \(markerOffset)")
            case 0xDA:
                _ = try segmentPayload(code: code, markerOffset: markerOffset)
                guard frameSize != nil else {
                    throw .malformed("scan at offset \(markerOffset) before any frame header")
                }
                try skipEntropyCodedData()
                sawScan = true
            default:
                let payload = try segmentPayload(code: code, markerOffset: markerOffset)
                try note(code: code, payload: payload, markerOffset: markerOffset)
            }
        }
    }

    /// Reads the marker at `offset`, skipping the fill bytes (extra FFs) allowed before it, and
    /// stray bytes between segments up to the next marker, as libjpeg does (it warns of them when
    /// it decodes: the segments themselves are whole). Among stray bytes an FF followed by 00 is
    /// no marker, as in a scan, so libjpeg passes over it too.
    private mutating func nextMarker() throws(Stop) -> (code: UInt8, offset: Int) {
        if offset < bytes.count, bytes[offset] != 0xFF, strayBytesAt == nil { strayBytesAt = offset }
        while true {
            while offset < bytes.count, bytes[offset] != 0xFF {
                offset += 1
            }
            while offset < bytes.count, bytes[offset] == 0xFF {
                offset += 1
            }
            guard offset < bytes.count else { throw missingEOI }
            let code = bytes[offset]
            offset += 1
            guard code == 0 else { return (code, offset - 2) }
            if strayBytesAt == nil { strayBytesAt = offset - 2 }
        }
    }

    /// Consumes a segment's length field and payload, returning where the payload lies.
    private mutating func segmentPayload(code: UInt8, markerOffset: Int) throws(Stop) -> Range<Int> {
        guard offset + 2 <= bytes.count else { throw missingEOI }
        let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
        guard length >= 2 else {
            throw .malformed("segment FF\(code.hexByte) at offset \(markerOffset) has length \(length)")
        }
        guard length <= bytes.count - offset else {
            throw .truncated(
                "segment FF\(code.hexByte) at offset \(markerOffset) needs \(length) bytes, "
                    + "only \(bytes.count - offset) left")
        }
        defer { offset += length }
        return offset + 2..<offset + length
    }

    private mutating func note(code: UInt8, payload: Range<Int>, markerOffset: Int) throws(Stop) {
        if code == 0xE1, exifPayloadRange == nil,
            bytes[payload].starts(with: EXIF.payloadHeader)
        {
            exifPayloadRange = payload
        }
        if isStartOfFrame(code), frameSize == nil {
            // Precision (1 byte), height (2), width (2), component count (1).
            guard payload.count >= 6 else {
                throw .malformed("frame header at offset \(markerOffset) is \(payload.count) bytes long")
            }
            let p = payload.lowerBound
            frameSize = Size(
                width: Int(bytes[p + 3]) << 8 | Int(bytes[p + 4]),
                height: Int(bytes[p + 1]) << 8 | Int(bytes[p + 2]))
        }
    }

    /// SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    private func isStartOfFrame(_ code: UInt8) -> Bool {
        switch code {
        case 0xC4, 0xC8, 0xCC: false
        case 0xC0...0xCF: true
        default: false
        }
    }

    /// Moves `offset` to the marker that ends a scan. Inside a scan FF00 is a stuffed data byte,
    /// FFD0–FFD7 are restart markers and repeated FFs are fill.
    private mutating func skipEntropyCodedData() throws(Stop) {
        var index = offset
        while index + 1 < bytes.count {
            guard bytes[index] == 0xFF else {
                index += 1
                continue
            }
            switch bytes[index + 1] {
            case 0x00, 0xD0...0xD7: index += 2
            case 0xFF: index += 1
            default:
                offset = index
                return
            }
        }
        throw missingEOI
    }
}
