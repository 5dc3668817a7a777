/// A colour image as JPEG stores it: full-resolution luma and two chroma planes that may be
/// subsampled (4:2:0 chroma is half as wide and half as tall, rounded up).
///
/// Chroma samples are centred on the luma pixels they cover, as in JFIF, so a rectangle in luma
/// coordinates maps to chroma coordinates by plain scaling (`Rect.scaled`).
public struct YCbCrImage: Sendable, Equatable {
    public var y: Plane
    public var cb: Plane
    public var cr: Plane

    public init(y: Plane, cb: Plane, cr: Plane) {
        precondition(cb.size == cr.size, "Cb \(cb.size) and Cr \(cr.size) differ in size")
        self.y = y
        self.cb = cb
        self.cr = cr
    }

    public var size: Size { y.size }

    /// How much smaller the chroma planes are than luma in x and y (1 for 4:4:4, 0.5 for 4:2:0).
    public var chromaScale: (x: Double, y: Double) { HybridZoom.chromaScale(y.size, cb.size) }

    /// The size of 4:2:0 chroma planes for a given luma size.
    public static func chroma420Size(for luma: Size) -> Size {
        Size(width: (luma.width + 1) / 2, height: (luma.height + 1) / 2)
    }
}

/// How much smaller chroma planes of `chroma` are than luma of `luma`, in x and y.
func chromaScale(_ luma: Size, _ chroma: Size) -> (x: Double, y: Double) {
    (Double(chroma.width) / Double(max(luma.width, 1)), Double(chroma.height) / Double(max(luma.height, 1)))
}
