/// One channel of an image: `width × height` samples, row-major and contiguous, values in [0, 1].
///
/// Every stage of the pipeline works on planes so that hot loops see one flat `[Float]`
/// and no per-pixel abstraction.
public struct Plane: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(
            width >= 0 && height >= 0 && pixels.count == width * height,
            "plane \(width)×\(height) needs \(width * height) samples, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int, value: Float = 0) {
        self.init(
            width: width, height: height,
            pixels: [Float](repeating: value, count: width * height))
    }

    public subscript(x: Int, y: Int) -> Float {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    public var size: Size { Size(width: width, height: height) }

    /// Every sample limited to [0, 1], the range an image (or a map) can hold.
    public mutating func clampToUnitRange() {
        pixels.withUnsafeMutableBufferPointer { values in
            let values = UncheckedSendable(values)
            parallelChunks(values.value.count, itemCost: 1) { range in
                for i in range { values.value[i] = values.value[i].clamped(to: 0...1) }
            }
        }
    }
}

/// A width and height in pixels.
public struct Size: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public var pixelCount: Int { width * height }
    /// The whole of a frame of this size, as a rectangle in its pixels.
    public var bounds: Rect { Rect(x: 0, y: 0, width: Double(width), height: Double(height)) }
    public var description: String { "\(width)×\(height)" }
}

/// An axis-aligned rectangle in continuous pixel coordinates: pixel (i, j) covers
/// [i, i+1) × [j, j+1), so its centre is (i + 0.5, j + 0.5).
public struct Rect: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// The same rectangle in a plane whose pixels are `sx × sy` times as large as this one's
    /// (for example chroma planes subsampled 2× in each direction: `scaled(0.5, 0.5)`).
    public func scaled(_ sx: Double, _ sy: Double) -> Rect {
        Rect(x: x * sx, y: y * sy, width: width * sx, height: height * sy)
    }
}
