import CTurboJPEG
import HybridZoom

/// A decoded JPEG with the metadata that travels with it.
public struct DecodedJPEG: Sendable {
    /// The picture, turned upright by its EXIF orientation when the caller asked for that.
    public var image: YCbCrImage
    /// The picture's size as stored in the file, before any orientation.
    public var storedSize: Size
    /// Empty when the file has no EXIF block or an unreadable one.
    public var exif: EXIF
    /// The raw APP1 payload, starting "Exif\0\0", to carry over to an output file.
    public var exifPayload: [UInt8]?
    /// Problems that did not stop the decode: TurboJPEG warnings (such as corrupt data it
    /// skipped) and an unreadable EXIF block.
    public var warnings: [String]
}

/// What a JPEG's headers say, read without decoding pixels.
public struct JPEGInfo: Sendable, Equatable {
    /// As stored in the file, before any orientation.
    public var size: Size
    public var exif: EXIF
}

/// Decodes a complete JPEG straight to Y, Cb and Cr planes (no RGB round trip), keeping
/// TurboJPEG's chroma subsampling. A grayscale JPEG gets neutral (0.5) chroma planes of 4:2:0
/// size. Throws `JPEGError` for a file that is not a complete JPEG, that has more than
/// `maxPixels` pixels (checked before any pixel memory is allocated) or that TurboJPEG rejects.
public func decodeJPEG(_ bytes: [UInt8], maxPixels: Int, applyOrientation: Bool = true) throws
    -> DecodedJPEG {
    let headers = try CompleteJPEGHeaders(bytes)
    // Checked against the frame header before TurboJPEG sees the file: it refuses sides over
    // 65500 pixels with a less helpful message, and allocates for anything below.
    guard headers.frameSize.pixelCount <= maxPixels else {
        throw JPEGError.tooManyPixels(headers.frameSize, limit: maxPixels)
    }
    var warnings: [String] = []
    let exif = readEXIFTolerantly(headers.exifPayload, warnings: &warnings)
    let stored = try decodeYCbCr(bytes, frameSize: headers.frameSize, warnings: &warnings)
    return DecodedJPEG(
        image: applyOrientation ? stored.oriented(exifOrientation: exif.orientation) : stored,
        storedSize: stored.size, exif: exif, exifPayload: headers.exifPayload, warnings: warnings)
}

/// The stored size and EXIF of a complete JPEG, from one walk over its markers. Unlike
/// `decodeJPEG`, this throws `EXIFError` for an unreadable EXIF block: the metadata is all the
/// caller asked for.
public func readJPEGInfo(_ bytes: [UInt8]) throws -> JPEGInfo {
    let headers = try CompleteJPEGHeaders(bytes)
    return JPEGInfo(size: headers.frameSize,
                    exif: try headers.exifPayload.map(EXIF.init(app1Payload:)) ?? EXIF())
}

/// The headers of a JPEG whose marker walk reached EOI. Anything less is an error, so a file
/// still being written never reaches TurboJPEG.
private struct CompleteJPEGHeaders {
    let frameSize: Size
    let exifPayload: [UInt8]?

    init(_ bytes: [UInt8]) throws {
        let structure = JPEGStructure(scanning: bytes)
        switch structure.status {
        case .complete: break
        case .empty: throw JPEGError.empty
        case .notJPEG: throw JPEGError.notJPEG(firstBytes: Array(bytes.prefix(4)))
        case .truncated(let reason): throw JPEGError.truncated(reason)
        case .malformed(let reason): throw JPEGError.malformed(reason)
        }
        // A complete walk always passed a frame header before its first scan.
        guard let frameSize = structure.frameSize else { throw JPEGError.malformed("no frame header") }
        self.frameSize = frameSize
        exifPayload = structure.exifPayloadRange.map { Array(bytes[$0]) }
    }
}

private func readEXIFTolerantly(_ payload: [UInt8]?, warnings: inout [String]) -> EXIF {
    guard let payload else { return EXIF() }
    do {
        return try EXIF(app1Payload: payload)
    } catch {
        warnings.append("ignored the EXIF block: \(error)")
        return EXIF()
    }
}

private func decodeYCbCr(_ bytes: [UInt8], frameSize: Size, warnings: inout [String]) throws
    -> YCbCrImage {
    try withTurboJPEGHandle(tjInitDecompress) { handle in
        try bytes.withUnsafeBufferPointer { jpeg in
            var decompression = Decompression(handle: handle, jpeg: jpeg)
            defer { warnings += decompression.warnings }
            return try decompression.decode(frameSize: frameSize)
        }
    }
}

/// One TurboJPEG decompression, collecting the warnings it reports.
private struct Decompression {
    let handle: tjhandle
    let jpeg: UnsafeBufferPointer<UInt8>
    var warnings: [String] = []

    /// `frameSize` is the size the caller checked against its pixel limit; TurboJPEG must agree.
    mutating func decode(frameSize: Size) throws -> YCbCrImage {
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        try check(tjDecompressHeader3(handle, jpeg.baseAddress, UInt(jpeg.count),
                                      &width, &height, &subsampling, &colorspace))
        let size = Size(width: Int(width), height: Int(height))
        guard size == frameSize else {
            throw JPEGError.malformed("TurboJPEG reads the frame as \(size), its header says \(frameSize)")
        }
        let isGray = subsampling == Int32(TJSAMP_GRAY.rawValue)
        let layout = PlaneBufferLayout(imageSize: size, subsampling: subsampling,
                                       componentCount: isGray ? 1 : 3)
        let planes = try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: layout.sampleCount) {
            buffer in
            let planeBuffers = layout.planeBuffers(in: buffer)
            var pointers = planeBuffers.map(\.baseAddress)
            try check(tjDecompressToYUVPlanes(handle, jpeg.baseAddress, UInt(jpeg.count), &pointers,
                                              width, nil, height, 0))
            return planeBuffers.indices.map { index in
                Plane(size: layout.imageSizes[index], samples: UnsafeBufferPointer(planeBuffers[index]),
                      stride: layout.bufferSizes[index].width)
            }
        }
        guard !isGray else {
            let chromaSize = YCbCrImage.chroma420Size(for: size)
            let neutral = Plane(width: chromaSize.width, height: chromaSize.height, value: 0.5)
            return YCbCrImage(y: planes[0], cb: neutral, cr: neutral)
        }
        return YCbCrImage(y: planes[0], cb: planes[1], cr: planes[2])
    }

    /// TurboJPEG reports warnings and errors alike with -1; only errors stop the decode.
    private mutating func check(_ result: Int32) throws {
        guard result != 0 else { return }
        let message = turboJPEGMessage(handle)
        guard tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) else {
            throw JPEGError.turboJPEG(message)
        }
        warnings.append(message)
    }
}
