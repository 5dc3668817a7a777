import CJPEGDecoder
import Glibc
import HybridZoom

/// A decoded JPEG with the metadata that travels with it.
public struct DecodedJPEG: Sendable {
    /// The picture in the file's 8 bits, turned upright by its EXIF orientation when the caller
    /// asked for that.
    public var image: CameraImage
    /// The picture's size as stored in the file, before any orientation.
    public var storedSize: Size
    /// Empty when the file has no EXIF block or an unreadable one.
    public var exif: EXIF
    /// The raw APP1 payload, starting "Exif\0\0", to carry over to an output file.
    public var exifPayload: [UInt8]?
    /// Problems that did not stop the decode: the decoder's warnings (an odd JFIF revision, stray
    /// bytes between segments, corrupt scan data when the caller accepted it) and an unreadable
    /// EXIF block.
    public var warnings: [String]
}

/// Decodes a complete JPEG straight to 8-bit Y, Cb and Cr planes (no RGB round trip), keeping
/// its chroma subsampling. A grayscale JPEG gets neutral (128) chroma planes of 4:2:0 size. Throws
/// `JPEGError` for a file that is not a complete JPEG, that has more than `maxPixels` pixels
/// (checked before any pixel memory is allocated) or that the decoder rejects, and, unless
/// `usingCorruptData`, for one whose scan data was corrupt or cut short (the decoder would fill
/// the gaps with a guess). Without `chroma`, the chroma planes are left empty (0 × 0): for a
/// frame whose luma is all that is read, a third of the memory and of the conversion spared.
public func decodeJPEG(
    _ bytes: [UInt8], maxPixels: Int, applyOrientation: Bool = true,
    usingCorruptData: Bool = false, chroma: Bool = true
) throws -> DecodedJPEG {
    let headers = try CompleteJPEGHeaders(bytes)
    // Checked against the frame header before libjpeg sees the file: it refuses sides over
    // 65500 pixels with a less helpful message, and allocates for anything below.
    guard headers.frameSize.pixelCount <= maxPixels else {
        throw JPEGError.tooManyPixels(headers.frameSize, limit: maxPixels)
    }
    var warnings: [String] = []
    let exif = readEXIFTolerantly(headers.exifPayload, warnings: &warnings)
    let stored = try decodeYCbCr(
        bytes, frameSize: headers.frameSize, usingCorruptData: usingCorruptData, chroma: chroma,
        warnings: &warnings)
    return DecodedJPEG(
        image: applyOrientation ? stored.oriented(exifOrientation: exif.orientation) : stored,
        storedSize: stored.size, exif: exif, exifPayload: headers.exifPayload, warnings: warnings)
}

/// The headers of a JPEG whose marker walk reached EOI. Anything less is an error, so a file
/// still being written never reaches the decoder.
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
    var problems: [EXIFError] = []
    defer { warnings += problems.map { "ignored part of the EXIF block: \($0)" } }
    do {
        return try EXIF(app1Payload: payload, problems: &problems)
    } catch {
        warnings.append("ignored the EXIF block: \(error)")
        return EXIF()
    }
}

private func decodeYCbCr(
    _ bytes: [UInt8], frameSize: Size, usingCorruptData: Bool, chroma: Bool, warnings: inout [String]
)
    throws -> CameraImage
{
    try bytes.withUnsafeBufferPointer { jpeg in
        let decoder = try PlaneDecoder(jpeg)
        defer { warnings += decoder.warnings }
        let image = try decoder.decode(frameSize: frameSize, chroma: chroma)
        guard usingCorruptData || !decoder.pixelsDamaged else { throw JPEGError.corruptData(decoder.warnings) }
        return image
    }
}

/// One decode by libjpeg's raw-data path (`jpeg_decoder.h` says why not TurboJPEG's), through a
/// zeroed band, so that no sample a decode did not write can reach an image.
private struct PlaneDecoder: ~Copyable {
    private let handle: OpaquePointer

    init(_ jpeg: UnsafeBufferPointer<UInt8>) throws {
        guard let handle = hzjpeg_create(jpeg.baseAddress, jpeg.count) else { throw JPEGError.outOfMemory }
        self.handle = handle
    }

    deinit { hzjpeg_destroy(handle) }

    /// `frameSize` is the size the caller checked against its pixel limit; libjpeg must agree.
    func decode(frameSize: Size, chroma: Bool) throws -> CameraImage {
        var frame = hzjpeg_frame()
        guard hzjpeg_read_frame(handle, &frame) == 0 else { throw JPEGError.undecodable(error) }
        let layout = try PlaneBufferLayout(
            frame, planes: (0..<frame.component_count).map { hzjpeg_frame_plane(handle, $0) },
            frameSize: frameSize)
        // Straight into the planes' own arrays: no frame-sized buffer comes and goes (250 MB at
        // 100 MP, which left a hole in the heap too small for the float planes that follow).
        var failed = false
        let samples = filledArrays(layout.imageSizes.map(\.pixelCount)) { starts in
            failed = hzjpeg_read_planes(handle, (0..<3).map { $0 < starts.count ? starts[$0] : nil }) != 0
        }
        guard !failed else { throw JPEGError.undecodable(error) }
        let planes = zip(layout.imageSizes, samples).prefix(chroma ? 3 : 1).map { size, pixels in
            BytePlane(width: size.width, height: size.height, pixels: pixels)
        }
        guard chroma else {
            let empty = BytePlane(width: 0, height: 0, pixels: [])
            return CameraImage(y: planes[0], cb: empty, cr: empty)
        }
        guard planes.count == 3 else {
            let chromaSize = YCbCrImage.chroma420Size(for: planes[0].size)
            let neutral = BytePlane(
                width: chromaSize.width, height: chromaSize.height,
                pixels: [UInt8](repeating: 128, count: chromaSize.pixelCount))
            return CameraImage(y: planes[0], cb: neutral, cr: neutral)
        }
        return CameraImage(y: planes[0], cb: planes[1], cr: planes[2])
    }

    var pixelsDamaged: Bool { hzjpeg_pixels_damaged(handle) != 0 }

    /// Arrays of `counts` bytes, uninitialized until `fill` writes every byte of them.
    private func filledArrays(_ counts: [Int], _ fill: ([UnsafeMutablePointer<UInt8>]) -> Void) -> [[UInt8]] {
        guard let count = counts.first else {
            fill([])
            return []
        }
        var rest: [[UInt8]] = []
        let first = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            rest = filledArrays(Array(counts.dropFirst())) { starts in fill([buffer.baseAddress!] + starts) }
            initialized = count
        }
        return [first] + rest
    }

    /// The warnings' texts, with a count of those beyond the ones libjpeg's messages were kept for.
    var warnings: [String] {
        let count = Int(hzjpeg_warning_count(handle)), kept = min(count, Int(HZJPEG_KEPT_WARNINGS))
        let texts = (0..<kept).map { String(cString: hzjpeg_warning(handle, Int32($0))) }
        return count > kept ? texts + ["\(count - kept) more warnings"] : texts
    }

    private var error: String { String(cString: hzjpeg_error(handle)) }
}

extension PlaneBufferLayout {
    /// The planes libjpeg decodes into (whole 8×8 blocks), after checking every size it reported,
    /// so that nothing below can index out of bounds.
    fileprivate init(_ frame: hzjpeg_frame, planes: [hzjpeg_plane], frameSize: Size) throws {
        guard Size(width: Int(frame.width), height: Int(frame.height)) == frameSize else {
            throw JPEGError.malformed("the decoder reads the frame as \(frame.width)×\(frame.height), its header says \(frameSize)")
        }
        let imageSizes = planes.map { Size(width: Int($0.width), height: Int($0.height)) }
        let bufferSizes = planes.map { Size(width: Int($0.buffer_width), height: Int($0.buffer_height)) }
        let fits = zip(imageSizes, bufferSizes).allSatisfy { image, buffer in
            image.width >= 1 && image.height >= 1 && image.width <= frameSize.width && image.height <= frameSize.height
                && buffer.width >= image.width && buffer.height >= image.height
        }
        guard fits, imageSizes.count == 1 || imageSizes.count == 3 && imageSizes[1] == imageSizes[2],
            imageSizes[0] == frameSize
        else {
            throw JPEGError.malformed("the decoder reports planes of \(imageSizes) in buffers of \(bufferSizes) for a frame of \(frameSize)")
        }
        self.init(bufferSizes: bufferSizes, imageSizes: imageSizes)
    }
}
