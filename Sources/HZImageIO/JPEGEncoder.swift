import CTurboJPEG
import HybridZoom

/// Encodes planes straight from Y, Cb and Cr (no RGB round trip) at `quality` 1…100. The chroma
/// plane size chooses the subsampling: 4:4:4, 4:2:2, 4:2:0, or 4:4:0 (what a 4:2:2 image becomes
/// when turned a quarter); any other size throws `JPEGError.unsupportedChromaSize`.
///
/// With `exifPayload` (starting "Exif\0\0", at most 65533 bytes), the file gets it as an APP1
/// segment right after SOI, where the Exif standard puts it, in place of TurboJPEG's JFIF APP0:
/// both standards want their segment first, and camera files follow Exif.
public func encodeJPEG(_ image: YCbCrImage, quality: Int, exifPayload: [UInt8]?) throws -> [UInt8] {
    precondition((1...100).contains(quality), "JPEG quality \(quality) is outside 1...100")
    if let exifPayload {
        try checkEXIFPayload(exifPayload)
    }
    let jpeg = try compress(image, subsampling: try subsampling(of: image), quality: quality)
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

private func subsampling(of image: YCbCrImage) throws -> Int32 {
    let candidates = [TJSAMP_444, TJSAMP_422, TJSAMP_420, TJSAMP_440].map { Int32($0.rawValue) }
    let width = Int32(image.size.width), height = Int32(image.size.height)
    guard
        let match = candidates.first(where: { subsampling in
            Int(tjPlaneWidth(1, width, subsampling)) == image.cb.width
                && Int(tjPlaneHeight(1, height, subsampling)) == image.cb.height
        })
    else {
        throw JPEGError.unsupportedChromaSize(luma: image.size, chroma: image.cb.size)
    }
    return match
}

private func compress(_ image: YCbCrImage, subsampling: Int32, quality: Int) throws -> [UInt8] {
    let planes = [image.y, image.cb, image.cr]
    let layout = PlaneBufferLayout(imageSize: image.size, subsampling: subsampling, componentCount: 3)
    return try withTurboJPEGHandle(tjInitCompress) { handle in
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: layout.sampleCount) { buffer in
            let planeBuffers = layout.planeBuffers(in: buffer)
            for (index, plane) in planes.enumerated() {
                plane.write8BitSamples(to: planeBuffers[index], bufferSize: layout.bufferSizes[index])
            }
            var pointers = planeBuffers.map { UnsafePointer($0.baseAddress) }
            var jpeg: UnsafeMutablePointer<UInt8>?
            var jpegSize: UInt = 0
            defer { tjFree(jpeg) }
            // Compression has no warnings worth keeping, so any failure is an error.
            guard
                tjCompressFromYUVPlanes(
                    handle, &pointers, Int32(image.size.width), nil,
                    Int32(image.size.height), subsampling, &jpeg, &jpegSize,
                    Int32(quality), 0) == 0
            else {
                throw JPEGError.turboJPEG(turboJPEGMessage(handle))
            }
            return Array(UnsafeBufferPointer(start: jpeg, count: Int(jpegSize)))
        }
    }
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
