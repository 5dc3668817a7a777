/// One channel of a frame as a camera's JPEG holds it: `width × height` 8-bit samples, row-major.
///
/// Decoded frames stay in this form, a quarter of a float plane (102 MB instead of 407 for a
/// 100 MP frame), and the stages that read them convert the rows they need as they go. A sample
/// s reads as the float `s / 255`, computed as the decoder of a float plane computes it, so a
/// stage gives the same values whichever it is handed.
public struct BytePlane: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(
            width >= 0 && height >= 0 && pixels.count == width * height,
            "plane \(width)×\(height) needs \(width * height) samples, got \(pixels.count)")
        (self.width, self.height, self.pixels) = (width, height, pixels)
    }

    /// `plane` rounded to 8 bits as the JPEG encoder rounds it (`eightBitSamples`).
    public init(quantizing plane: Plane) {
        let pixels = [UInt8](unsafeUninitializedCapacity: plane.pixels.count) { samples, count in
            plane.pixels.withUnsafeBufferPointer { values in
                var index = 0
                while index + 8 <= values.count {
                    let eight = UnsafeRawPointer(values.baseAddress! + index).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(samples.baseAddress! + index).storeBytes(of: eightBitSamples(eight), as: SIMD8<UInt8>.self)
                    index += 8
                }
                for index in index..<values.count { samples[index] = eightBitSamples(SIMD8(repeating: values[index]))[0] }
            }
            count = plane.pixels.count
        }
        self.init(width: plane.width, height: plane.height, pixels: pixels)
    }

    public var size: Size { Size(width: width, height: height) }

    public subscript(x: Int, y: Int) -> Float { Float(pixels[y * width + x]) * (1 / 255) }

    /// The whole plane in floats, for what needs it so (a contact sheet, a measurement).
    public var floats: Plane {
        let floats = [Float](unsafeUninitializedCapacity: pixels.count) { buffer, count in
            pixels.withUnsafeBufferPointer { convertSamples($0.baseAddress!, count: $0.count, into: buffer.baseAddress!) }
            count = pixels.count
        }
        return Plane(width: width, height: height, pixels: floats)
    }
}

/// Samples in [0, 1] as bytes: × 255, + ½ and truncated, clamped to 0…255, with NaN, which
/// fails both comparisons, landing on 0.
@inline(__always)
public func eightBitSamples(_ values: SIMD8<Float>) -> SIMD8<UInt8> {
    var scaled = values * 255 + 0.5
    scaled.replace(with: 0, where: .!(scaled .> 0))
    scaled.replace(with: 255, where: scaled .>= 255)
    return SIMD8(truncatingIfNeeded: wholeNumbers(scaled.rounded(.down)))
}

@inline(__always)
func convertSamples(_ samples: UnsafePointer<UInt8>, count: Int, into output: UnsafeMutablePointer<Float>) {
    var index = 0
    while index + 8 <= count {
        let bytes = UnsafeRawPointer(samples + index).loadUnaligned(as: SIMD8<UInt8>.self)
        let values = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: bytes)) * (1 / 255)
        UnsafeMutableRawPointer(output + index).storeBytes(of: values, as: SIMD8<Float>.self)
        index += 8
    }
    for index in index..<count { output[index] = Float(samples[index]) * (1 / 255) }
}

/// A frame as a camera's JPEG holds it: 8-bit Y, Cb and Cr, the chroma perhaps subsampled as
/// in `YCbCrImage`. The pipeline reads W and T in this form and makes float planes only of
/// what it computes.
public struct CameraImage: Sendable, Equatable {
    public var y: BytePlane
    public var cb: BytePlane
    public var cr: BytePlane

    public init(y: BytePlane, cb: BytePlane, cr: BytePlane) {
        precondition(cb.size == cr.size, "Cb \(cb.size) and Cr \(cr.size) differ in size")
        (self.y, self.cb, self.cr) = (y, cb, cr)
    }

    /// `image` rounded to 8 bits, as a camera would have stored it.
    public init(quantizing image: YCbCrImage) {
        self.init(y: BytePlane(quantizing: image.y), cb: BytePlane(quantizing: image.cb), cr: BytePlane(quantizing: image.cr))
    }

    public var size: Size { y.size }

    /// The image in floats, for what needs it so (a contact sheet, a simulation).
    public var floats: YCbCrImage { YCbCrImage(y: y.floats, cb: cb.floats, cr: cr.floats) }
}

/// A plane that stages read in floats: a float plane where it lies, or an 8-bit plane converted
/// a band of rows at a time. A stage that takes either (a frame as decoded, or a plane a
/// simulation or a test made) is written once against this, with the same values for both.
protocol ReadablePlane: Sendable {
    var size: Size { get }
    /// The plane in floats, whole.
    var floats: Plane { get }
    /// `body` given the plane's rows as the resampler, the warps and the measurements read them.
    func withSourceRows<Result>(_ body: (SourceRows) -> Result) -> Result
}

extension Plane: ReadablePlane {
    var floats: Plane { self }

    func withSourceRows<Result>(_ body: (SourceRows) -> Result) -> Result {
        pixels.withUnsafeBufferPointer { body(SourceRows($0.baseAddress!, size: size)) }
    }
}

extension BytePlane: ReadablePlane {
    func withSourceRows<Result>(_ body: (SourceRows) -> Result) -> Result {
        pixels.withUnsafeBufferPointer { body(SourceRows($0.baseAddress!, size: size)) }
    }
}
