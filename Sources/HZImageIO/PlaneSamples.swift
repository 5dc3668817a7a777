import HybridZoom

/// Conversion of planes to the 8-bit samples libjpeg writes.
extension Plane {
    /// Writes the pixels as 8-bit samples, rounded and clamped to 0…255 (NaN becomes 0), into a
    /// buffer of `bufferSize` (its rows `rows`), repeating the last column and row into any
    /// padding beyond the plane, as JPEG encoders extend edge blocks. Eight samples at a time.
    func write8BitSamples(to samples: UnsafeMutableBufferPointer<UInt8>, bufferSize: Size, rows: Range<Int>) {
        precondition(
            bufferSize.width >= width && bufferSize.height >= height
                && samples.count == bufferSize.pixelCount,
            "a \(size) plane does not fit a buffer of \(bufferSize)")
        pixels.withUnsafeBufferPointer { pixels in
            for y in rows {
                let source = pixels.baseAddress! + min(y, height - 1) * width, row = samples.baseAddress! + y * bufferSize.width
                var x = 0
                while x + 8 <= width {
                    let values = UnsafeRawPointer(source + x).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(row + x).storeBytes(of: eightBitSamples(values), as: SIMD8<UInt8>.self)
                    x += 8
                }
                for x in x..<width { row[x] = eightBitSamples(SIMD8(repeating: source[x]))[0] }
                for x in width..<bufferSize.width { row[x] = row[width - 1] }
            }
        }
    }
}

/// The planes of an image as a codec reads or writes them, laid end to end in one buffer: each
/// plane has a buffer size (codecs work in whole blocks) and, at its top left, the part that
/// belongs to the image.
struct PlaneBufferLayout {
    let bufferSizes: [Size]
    let imageSizes: [Size]

    init(bufferSizes: [Size], imageSizes: [Size]) {
        (self.bufferSizes, self.imageSizes) = (bufferSizes, imageSizes)
    }

    var sampleCount: Int { bufferSizes.reduce(0) { $0 + $1.pixelCount } }

    /// Each plane's part of a buffer of `sampleCount` samples.
    func planeBuffers(in buffer: UnsafeMutableBufferPointer<UInt8>) -> [UnsafeMutableBufferPointer<UInt8>] {
        var start = 0
        return bufferSizes.map { size in
            defer { start += size.pixelCount }
            return UnsafeMutableBufferPointer(rebasing: buffer[start..<start + size.pixelCount])
        }
    }
}
