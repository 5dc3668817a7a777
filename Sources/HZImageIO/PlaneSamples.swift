import HybridZoom

/// Conversion of planes to the 8-bit samples libjpeg writes.
extension Plane {
    /// Writes the pixels of rows `rows` as 8-bit samples, rounded and clamped to 0…255 (NaN
    /// becomes 0), into `samples`, a row each `rowLength` (at least the plane's width) apart,
    /// repeating the last column and row into any padding beyond the plane (rows past its
    /// last), as JPEG encoders extend edge blocks. Eight samples at a time.
    func write8BitSamples(rows: Range<Int>, into samples: UnsafeMutablePointer<UInt8>, rowLength: Int) {
        precondition(rowLength >= width, "a \(size) plane does not fit rows of \(rowLength)")
        pixels.withUnsafeBufferPointer { pixels in
            for y in rows {
                let source = pixels.baseAddress! + min(y, height - 1) * width, row = samples + (y - rows.lowerBound) * rowLength
                var x = 0
                while x + 8 <= width {
                    let values = UnsafeRawPointer(source + x).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(row + x).storeBytes(of: eightBitSamples(values), as: SIMD8<UInt8>.self)
                    x += 8
                }
                for x in x..<width { row[x] = eightBitSamples(SIMD8(repeating: source[x]))[0] }
                for x in width..<rowLength { row[x] = row[width - 1] }
            }
        }
    }
}

/// The planes of an image as a codec reads or writes them: each
/// plane has a buffer size (codecs work in whole blocks) and, at its top left, the part that
/// belongs to the image.
struct PlaneBufferLayout {
    let bufferSizes: [Size]
    let imageSizes: [Size]

    init(bufferSizes: [Size], imageSizes: [Size]) {
        (self.bufferSizes, self.imageSizes) = (bufferSizes, imageSizes)
    }
}
