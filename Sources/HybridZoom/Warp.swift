import Foundation

/// How a plane is read between its pixels, by `warp` and `resample`.
public enum Interpolation: Sendable {
    /// 2×2 taps (the tent kernel): how the pipeline enlarges the flow and warps T by it (the
    /// end of step 5).
    case bilinear
    /// 4×4 Catmull-Rom taps: sharper, for images (the digital zoom, simulated frames).
    case bicubic
}

/// Backward warp: output pixel (x, y) reads `plane` at (x + dx(x, y), y + dy(x, y)), in pixel
/// index coordinates (pixel centres at integers). Reads past the border repeat the edge.
public func warp(_ plane: Plane, dx: Plane, dy: Plane, interpolation: Interpolation) -> Plane {
    precondition(dx.size == dy.size, "flow components differ in size: \(dx.size) and \(dy.size)")
    let size = dx.size, width = dx.width
    return dx.pixels.withUnsafeBufferPointer { dx in
        dy.pixels.withUnsafeBufferPointer { dy in
            reading(plane, into: size) { reader, rows, output in
                for y in rows {
                    for x in 0..<width {
                        let i = y * width + x
                        output[i] = reader.sample(Float(x) + dx[i], Float(y) + dy[i], interpolation)
                    }
                }
            }
        }
    }
}

/// `plane` read along a map: output pixel x (a grid of `size`) reads `plane` at `mapping(x)`,
/// both in continuous coordinates. For enlarging or turning by a little: it does not low-pass.
public func warp(_ plane: Plane, by mapping: Homography, to size: Size, interpolation: Interpolation) -> Plane {
    warp(reading: plane, by: mapping, to: size, interpolation: interpolation)
}

/// The same from an 8-bit plane, a band of rows converted at a time.
public func warp(_ plane: BytePlane, by mapping: Homography, to size: Size, interpolation: Interpolation) -> Plane {
    warp(reading: plane, by: mapping, to: size, interpolation: interpolation)
}

/// Either kind of plane, a band of output rows at a time, each reading the rows between where
/// the band's corners land. A homography takes its extremes over a rectangle at the corners as
/// long as its denominator keeps one sign there; where it does not, the band reads every row.
func warp<P: ReadablePlane>(reading plane: P, by mapping: Homography, to size: Size, interpolation: Interpolation) -> Plane {
    let sourceRows = { (rows: Range<Int>) -> Range<Int> in
        let corners = [0.5, Double(size.width) - 0.5].flatMap { x in
            [Double(rows.lowerBound) + 0.5, Double(rows.upperBound) - 0.5].map { SIMD2(x, $0) }
        }
        let m = mapping.matrix, denominators = corners.map { m[6] * $0.x + m[7] * $0.y + m[8] }
        guard denominators.allSatisfy({ $0 > 0 }) || denominators.allSatisfy({ $0 < 0 }) else { return 0..<plane.size.height }
        let landed = corners.map { mapping.apply($0).y - 0.5 }
        return rowsRead(at: Float(landed.min()!)...Float(landed.max()!), taps: interpolation.rowTaps)
    }
    return reading(plane, into: size, sourceRows: sourceRows, mappedRows(mapping, width: size.width, interpolation: interpolation))
}

private func mappedRows(
    _ mapping: Homography, width: Int, interpolation: Interpolation
) -> (PlaneReader, Range<Int>, UnsafeMutableBufferPointer<Float>) -> Void {
    { reader, rows, output in
        for y in rows {
            for x in 0..<width {
                let at = mapping.apply(SIMD2(Double(x) + 0.5, Double(y) + 0.5)) - 0.5
                output[y * width + x] = reader.sample(Float(at.x), Float(at.y), interpolation)
            }
        }
    }
}

/// A plane of `size` made from `plane` in parallel bands of rows: `fillRows` reads `plane`
/// through the reader and writes its band's rows of the output (row-major, `size.width` wide).
func reading(
    _ plane: Plane, into size: Size,
    _ fillRows: (PlaneReader, Range<Int>, UnsafeMutableBufferPointer<Float>) -> Void
) -> Plane {
    var result = Plane(width: size.width, height: size.height)
    plane.pixels.withUnsafeBufferPointer { source in
        result.pixels.withUnsafeMutableBufferPointer { output in
            let output = UncheckedSendable(output)
            let reader = PlaneReader(pixels: source, width: plane.width, height: plane.height)
            parallelChunks(size.height, itemCost: size.width) { rows in fillRows(reader, rows, output.value) }
        }
    }
    return result
}

/// The same a band of output rows at a time, each reading only the source rows that
/// `sourceRows(band)` says it reads (edge rows repeated as ever): an 8-bit plane is never
/// converted whole, only those rows, into a buffer that each core reuses.
func reading<P: ReadablePlane>(
    _ plane: P, into size: Size, sourceRows: (Range<Int>) -> Range<Int>,
    _ fillRows: (PlaneReader, Range<Int>, UnsafeMutableBufferPointer<Float>) -> Void
) -> Plane {
    var result = Plane(width: size.width, height: size.height)
    let (width, height) = (plane.size.width, plane.size.height)
    plane.withSourceRows { source in
        result.pixels.withUnsafeMutableBufferPointer { output in
            let output = UncheckedSendable(output)
            parallelChunks(size.height, itemCost: size.width) { rows in
                var converted: [Float] = [0]
                for start in stride(from: rows.lowerBound, to: rows.upperBound, by: readingBand) {
                    let band = start..<min(start + readingBand, rows.upperBound)
                    // Reads past the edges repeat the edge rows, so those are held at least.
                    let wanted = sourceRows(band)
                    let first = min(max(wanted.lowerBound, 0), height - 1)
                    let read = first..<min(max(wanted.upperBound, first + 1), height)
                    let count = read.count * width
                    if source.converts && converted.count < count { converted = [Float](repeating: 0, count: count) }
                    converted.withUnsafeMutableBufferPointer { buffer in
                        let reader = PlaneReader(
                            pixels: UnsafeBufferPointer(start: source.rows(read, scratch: buffer.baseAddress!), count: count),
                            width: width, height: height, firstRow: read.lowerBound)
                        fillRows(reader, band, output.value)
                    }
                }
            }
        }
    }
    return result
}

/// Output rows made together from one conversion of the 8-bit rows they read: enough to share
/// the rows a band's neighbours also read, few enough to stay in cache.
private let readingBand = 32

/// The rows read by samples whose vertical positions (pixel index coordinates) lie in
/// `positions`, with `taps` rows above and below the one a sample falls in (bilinear: 0 above, 1
/// below; bicubic: 1 and 2), and a row more each way for rounding.
func rowsRead(at positions: ClosedRange<Float>, taps: (above: Int, below: Int)) -> Range<Int> {
    // Any position this far out reads an edge row; the bound keeps the arithmetic in range.
    let limit = Float(1 << 30)
    let top = Int(positions.lowerBound.rounded(.down).clamped(to: -limit...limit))
    let bottom = Int(positions.upperBound.rounded(.down).clamped(to: -limit...limit))
    return (top - taps.above - 1)..<(bottom + taps.below + 2)
}

extension Interpolation {
    /// The rows a sample reads above and below the one it falls in.
    var rowTaps: (above: Int, below: Int) { self == .bilinear ? (0, 1) : (1, 2) }
}

/// Reads a plane at fractional positions, repeating edge pixels. The plane may be held only in
/// part: `pixels` then holds its rows from `firstRow` on, which must include every row read.
struct PlaneReader {
    let pixels: UnsafeBufferPointer<Float>
    let width: Int
    let height: Int
    let firstRow: Int

    init(pixels: UnsafeBufferPointer<Float>, width: Int, height: Int, firstRow: Int = 0) {
        (self.pixels, self.width, self.height, self.firstRow) = (pixels, width, height, firstRow)
    }

    @inline(__always)
    func at(_ x: Int, _ y: Int) -> Float {
        pixels[(min(max(y, 0), height - 1) - firstRow) * width + min(max(x, 0), width - 1)]
    }

    @inline(__always)
    func sample(_ x: Float, _ y: Float, _ interpolation: Interpolation) -> Float {
        interpolation == .bilinear ? bilinear(x, y) : bicubic(x, y)
    }

    @inline(__always)
    func bilinear(_ x: Float, _ y: Float) -> Float {
        let x0 = x.rounded(.down), y0 = y.rounded(.down)
        let fx = x - x0, fy = y - y0
        let ix = Int(x0), iy = Int(y0)
        let (a, b, c, d): (Float, Float, Float, Float)
        if ix >= 0, iy >= 0, ix + 1 < width, iy + 1 < height {  // most reads: no clamping
            let p = (iy - firstRow) * width + ix
            (a, b, c, d) = (pixels[p], pixels[p + 1], pixels[p + width], pixels[p + width + 1])
        } else {
            (a, b, c, d) = (at(ix, iy), at(ix + 1, iy), at(ix, iy + 1), at(ix + 1, iy + 1))
        }
        let top = a + fx * (b - a), bottom = c + fx * (d - c)
        return top + fy * (bottom - top)
    }

    /// Eight samples at (x, y), bilinear, each as `bilinear` reads it: the same arithmetic lane
    /// by lane, with the four neighbours gathered, when all eight lie inside the plane.
    @inline(__always)
    func bilinear(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        let x0 = x.rounded(.down), y0 = y.rounded(.down)
        let fx = x - x0, fy = y - y0
        guard all((x0 .>= 0) .& (y0 .>= 0) .& (x0 .< Float(width - 1)) .& (y0 .< Float(height - 1))) else {
            var result = SIMD8<Float>()
            for lane in 0..<8 { result[lane] = bilinear(x[lane], y[lane]) }
            return result
        }
        let index = (wholeNumbers(y0) &- Int32(firstRow)) &* Int32(width) &+ wholeNumbers(x0)
        let base = pixels.baseAddress!
        func gather(_ offset: Int) -> SIMD8<Float> {
            let p = base + offset
            return SIMD8(
                p[Int(index[0])], p[Int(index[1])], p[Int(index[2])], p[Int(index[3])],
                p[Int(index[4])], p[Int(index[5])], p[Int(index[6])], p[Int(index[7])])
        }
        let (a, b, c, d) = (gather(0), gather(1), gather(width), gather(width + 1))
        let top = a + fx * (b - a), bottom = c + fx * (d - c)
        return top + fy * (bottom - top)
    }

    /// Eight consecutive pixels of row y, from x on, each read at its position + `displacement`
    /// (bilinear): the fractional weights are the same for all eight.
    @inline(__always)
    func row8(x: Int, y: Int, displacement d: SIMD2<Float>) -> SIMD8<Float> {
        let fx = d.x.rounded(.down), fy = d.y.rounded(.down)
        let ax = d.x - fx, ay = d.y - fy
        let left = x + Int(fx), top = y + Int(fy)
        guard left >= 0, top >= 0, left + 8 < width, top + 1 < height else {
            var row = SIMD8<Float>.zero
            for i in 0..<8 { row[i] = bilinear(Float(x + i) + d.x, Float(y) + d.y) }
            return row
        }
        func load(_ index: Int) -> SIMD8<Float> { UnsafeRawPointer(pixels.baseAddress! + index).loadUnaligned(as: SIMD8<Float>.self) }
        let p = (top - firstRow) * width + left
        let upper = load(p) + ax * (load(p + 1) - load(p))
        let lower = load(p + width) + ax * (load(p + width + 1) - load(p + width))
        return upper + ay * (lower - upper)
    }

    @inline(__always)
    func bicubic(_ x: Float, _ y: Float) -> Float {
        let x0 = x.rounded(.down), y0 = y.rounded(.down)
        let wx = cubicWeights(x - x0), wy = cubicWeights(y - y0)
        let ix = Int(x0), iy = Int(y0)
        var sum: Float = 0
        for j in 0..<4 {
            var row: Float = 0
            for i in 0..<4 { row += wx[i] * at(ix + i - 1, iy + j - 1) }
            sum += wy[j] * row
        }
        return sum
    }
}

/// Whole numbers in [0, 2²²) as integers, with no conversion instruction: added to 1.5 · 2²³ a
/// float's low mantissa bits are the number itself. (The standard library's conversion of a
/// vector goes lane by lane through a generic range check.)
@inline(__always)
public func wholeNumbers(_ values: SIMD8<Float>) -> SIMD8<Int32> {
    let magic: Float = 12_582_912
    return unsafeBitCast(values + magic, to: SIMD8<Int32>.self) &- Int32(bitPattern: magic.bitPattern)
}

/// Catmull-Rom weights of the four taps around a sample at fraction `t` past the second tap.
@inline(__always)
private func cubicWeights(_ t: Float) -> SIMD4<Float> {
    let t2 = t * t, t3 = t2 * t
    return SIMD4(
        -0.5 * t3 + t2 - 0.5 * t,
        1.5 * t3 - 2.5 * t2 + 1,
        -1.5 * t3 + 2 * t2 + 0.5 * t,
        0.5 * t3 - 0.5 * t2)
}
