import CJPEGEncoder
import Foundation
import HybridZoom

/// Encodes planes straight from Y, Cb and Cr (no RGB round trip) at `quality` 1…100. The chroma
/// plane size chooses the subsampling: 4:4:4, 4:2:2, 4:2:0, or 4:4:0 (what a 4:2:2 image becomes
/// when turned a quarter); any other size throws `JPEGError.unsupportedChromaSize`.
///
/// The frame is encoded in horizontal strips, one per core (`jpeg_encoder.h`), joined into the
/// file one encode would write: baseline, standard Huffman tables, a restart marker after every
/// row of MCUs (2 bytes each, a few hundred bytes in a 12 MP file).
///
/// With `exifPayload` (starting "Exif\0\0", at most 65533 bytes), the file gets it as an APP1
/// segment right after SOI, where the Exif standard puts it, in place of libjpeg's JFIF APP0:
/// both standards want their segment first, and camera files follow Exif.
public func encodeJPEG(_ image: YCbCrImage, quality: Int, exifPayload: [UInt8]?) throws -> [UInt8] {
    try encodeJPEG(image, quality: quality, exifPayload: exifPayload, strips: ProcessInfo.processInfo.activeProcessorCount)
}

/// `strips`: how many parts are encoded at once. The file is the same for any number.
func encodeJPEG(_ image: YCbCrImage, quality: Int, exifPayload: [UInt8]?, strips: Int) throws -> [UInt8] {
    precondition((1...100).contains(quality), "JPEG quality \(quality) is outside 1...100")
    if let exifPayload {
        try checkEXIFPayload(exifPayload)
    }
    let jpeg = try RawFrame(image, quality: quality).encoded(strips: strips)
    return exifPayload.map { replacingJFIF(in: jpeg, withEXIFPayload: $0) } ?? jpeg
}

/// A segment's 2-byte length counts itself, so the payload can have at most 65535 − 2 bytes.
private let maxSegmentPayload = 65533

private func checkEXIFPayload(_ payload: [UInt8]) throws {
    guard payload.starts(with: EXIF.payloadHeader) else {
        throw JPEGError.invalidEXIFPayload("it does not start with \"Exif\\0\\0\"")
    }
    guard payload.count <= maxSegmentPayload else {
        throw JPEGError.invalidEXIFPayload(
            "\(payload.count) bytes is more than the \(maxSegmentPayload) an APP1 segment holds")
    }
}

/// An image as libjpeg's raw-data input takes it: 8-bit planes padded to whole blocks across and
/// whole MCU rows down, the padding repeating the last column and row, made a row of MCUs at a
/// time (`MCURowBand`).
private struct RawFrame {
    let image: YCbCrImage
    var frame = hzjpeg_raw_frame()
    let layout: PlaneBufferLayout
    /// libjpeg's JPEG_MAX_DIMENSION.
    static let largestSide = 65500

    init(_ image: YCbCrImage, quality: Int) throws {
        let luma = image.size
        // Each strip alone may be within JPEG's limit when the frame is not.
        guard (1...RawFrame.largestSide).contains(luma.width), (1...RawFrame.largestSide).contains(luma.height) else {
            throw JPEGError.unencodable("\(luma.width)×\(luma.height): a JPEG's sides are 1 to \(RawFrame.largestSide) pixels")
        }
        // Luma's sampling factors against chroma's, as the chroma planes' size implies.
        guard
            let (h, v) = [(1, 1), (2, 1), (2, 2), (1, 2)].first(where: { h, v in
                image.cb.size == Size(width: (luma.width + h - 1) / h, height: (luma.height + v - 1) / v)
            })
        else {
            throw JPEGError.unsupportedChromaSize(luma: luma, chroma: image.cb.size)
        }
        var raw = hzjpeg_raw_frame()
        (raw.width, raw.height, raw.h_sampling, raw.v_sampling) = (Int32(luma.width), Int32(luma.height), Int32(h), Int32(v))
        raw.quality = Int32(quality)
        let bufferSizes = (0..<3).map { index in
            var (width, height): (Int32, Int32) = (0, 0)
            hzjpeg_padded_plane(&raw, Int32(index), &width, &height)
            return Size(width: Int(width), height: Int(height))
        }
        (self.image, frame) = (image, raw)
        layout = PlaneBufferLayout(bufferSizes: bufferSizes, imageSizes: [image.y.size, image.cb.size, image.cr.size])
    }

    /// The JPEG, its MCU rows split over `strips` encodes at once and joined. Each strip has the
    /// samples of one MCU row in 8 bits at a time (a 100 MP frame whole would be 150 MB).
    func encoded(strips: Int) throws -> [UInt8] {
        var frame = frame
        let rows = Int(hzjpeg_mcu_rows(&frame)), count = max(1, min(strips, rows))
        let stripRows = (0..<count).map { (rows * $0 / count)..<(rows * ($0 + 1) / count) }
        let (shared, image, layout) = (UncheckedSendable(frame), image, layout)
        let parts = try stripRows.concurrentMap { mcuRows throws(JPEGError) in
            let band = MCURowBand(image, layout: layout, mcuRows: rows)
            var frame = shared.value
            band.attach(to: &frame)
            return try withExtendedLifetime(band) { () throws(JPEGError) in try encodeStrip(frame, rows: mcuRows) }
        }
        return joinStrips(parts, firstRows: stripRows.map(\.lowerBound), height: image.size.height)
    }
}

/// One MCU row of each plane in 8 bits, padded as libjpeg's raw-data input must be, written
/// when libjpeg is about to encode it.
private final class MCURowBand {
    private let planes: [Plane]
    private let bandSizes: [Size]
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    /// Where each plane's band begins in `buffer`.
    private let starts: [UnsafeMutablePointer<UInt8>]

    init(_ image: YCbCrImage, layout: PlaneBufferLayout, mcuRows: Int) {
        planes = [image.y, image.cb, image.cr]
        let bandSizes = layout.bufferSizes.map { Size(width: $0.width, height: $0.height / max(mcuRows, 1)) }
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bandSizes.reduce(0) { $0 + $1.pixelCount })
        let offsets = bandSizes.indices.map { bandSizes[..<$0].reduce(0) { $0 + $1.pixelCount } }
        (self.bandSizes, self.buffer, starts) = (bandSizes, buffer, offsets.map { buffer.baseAddress! + $0 })
    }

    deinit { buffer.deallocate() }

    /// Points `frame` at this band, to be filled row by row.
    func attach(to frame: inout hzjpeg_raw_frame) {
        frame.planes = (UnsafePointer(starts[0]), UnsafePointer(starts[1]), UnsafePointer(starts[2]))
        frame.strides = (Int32(bandSizes[0].width), Int32(bandSizes[1].width), Int32(bandSizes[2].width))
        frame.context = Unmanaged.passUnretained(self).toOpaque()
        frame.fill = { context, mcuRow in Unmanaged<MCURowBand>.fromOpaque(context!).takeUnretainedValue().fill(Int(mcuRow)) }
    }

    private func fill(_ mcuRow: Int) {
        for (plane, (size, start)) in zip(planes, zip(bandSizes, starts)) {
            plane.write8BitSamples(rows: (mcuRow * size.height)..<((mcuRow + 1) * size.height), into: start, rowLength: size.width)
        }
    }
}

/// MCU rows `rows` of `frame` as a JPEG of their own.
private func encodeStrip(_ frame: hzjpeg_raw_frame, rows: Range<Int>) throws(JPEGError) -> [UInt8] {
    var jpeg: UnsafeMutablePointer<UInt8>?, size: UInt = 0
    var error = [CChar](repeating: 0, count: 200)
    defer { free(jpeg) }
    let status = withUnsafePointer(to: frame) { hzjpeg_encode_strip($0, Int32(rows.lowerBound), Int32(rows.count), &jpeg, &size, &error) }
    guard status == 0, let jpeg else {
        throw .unencodable(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return Array(UnsafeBufferPointer(start: jpeg, count: Int(size)))
}

/// Strips of one frame (`firstRows`: each one's first MCU row) joined into the file that one
/// encode with a restart interval per MCU row writes: the first strip's headers with the frame's
/// height, then each strip's entropy-coded data, with the restart marker that ends the row before
/// it and its own markers numbered on from there (they count 0…7 from the frame's first row).
private func joinStrips(_ strips: [[UInt8]], firstRows: [Int], height: Int) -> [UInt8] {
    var joined: [UInt8] = []
    joined.reserveCapacity(strips.reduce(0) { $0 + $1.count })
    for (index, strip) in strips.enumerated() {
        let (dataStart, heightOffset) = scanData(of: strip), dataEnd = strip.count - 2
        precondition(strip[dataEnd...].elementsEqual([0xFF, 0xD9]), "libjpeg's strip does not end in EOI")
        if index == 0 {
            joined += strip[..<dataStart]
            joined[heightOffset] = UInt8(height >> 8)
            joined[heightOffset + 1] = UInt8(height & 0xFF)
        } else {
            joined += [0xFF, restartMarker(firstRows[index] - 1)]
        }
        // A 0xFF in entropy-coded data is always followed by 0x00 (a stuffed byte) or a marker;
        // a strip starting at a multiple of eight rows keeps its markers' numbers.
        var from = dataStart
        let shift = firstRows[index] % 8
        while shift != 0, let marker = strip[from..<dataEnd].firstIndex(of: 0xFF) {
            joined += strip[from...marker]
            let code = strip[marker + 1]
            joined.append((0xD0...0xD7).contains(code) ? restartMarker(Int(code - 0xD0) + shift) : code)
            from = marker + 2
        }
        joined += strip[from..<dataEnd]
    }
    return joined + [0xFF, 0xD9]
}

/// RSTn after restart interval `interval` of a scan (counted from 0): n = interval mod 8.
private func restartMarker(_ interval: Int) -> UInt8 { 0xD0 + UInt8(interval % 8) }

/// Where a JPEG libjpeg wrote has its entropy-coded data (just past its SOS segment), and where
/// in its SOF0 segment the frame's height is.
private func scanData(of jpeg: [UInt8]) -> (start: Int, heightOffset: Int) {
    var offset = 2, heightOffset = 0
    while offset + 4 <= jpeg.count, jpeg[offset] == 0xFF {
        let marker = jpeg[offset + 1], length = Int(jpeg[offset + 2]) << 8 | Int(jpeg[offset + 3])
        if marker == 0xC0 { heightOffset = offset + 5 }
        offset += 2 + length
        if marker == 0xDA { return (offset, heightOffset) }
    }
    preconditionFailure("libjpeg wrote a JPEG without a baseline frame and a scan")
}

private func replacingJFIF(in jpeg: [UInt8], withEXIFPayload payload: [UInt8]) -> [UInt8] {
    let afterSOI = 2
    let hasJFIF = jpeg.count >= afterSOI + 4 && jpeg[afterSOI] == 0xFF && jpeg[afterSOI + 1] == 0xE0
    let rest = hasJFIF ? afterSOI + 2 + (Int(jpeg[afterSOI + 2]) << 8 | Int(jpeg[afterSOI + 3])) : afterSOI
    let segmentLength = payload.count + 2
    var output: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1, UInt8(segmentLength >> 8), UInt8(segmentLength & 0xFF)]
    output.reserveCapacity(output.count + payload.count + jpeg.count - rest)
    output += payload
    output += jpeg[rest...]
    return output
}
