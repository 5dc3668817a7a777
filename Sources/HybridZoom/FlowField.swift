/// A per-pixel displacement on a frame grid: pixel x corresponds to x + (u(x), v(x)) in another
/// frame, in pixels.
public struct FlowField: Sendable, Equatable {
    public var u: Plane
    public var v: Plane

    public init(u: Plane, v: Plane) {
        precondition(u.size == v.size, "flow components differ in size: \(u.size) and \(v.size)")
        self.u = u
        self.v = v
    }

    /// A constant flow.
    public init(size: Size, u: Float = 0, v: Float = 0) {
        self.init(
            u: Plane(width: size.width, height: size.height, value: u),
            v: Plane(width: size.width, height: size.height, value: v))
    }

    public var size: Size { u.size }

    /// `plane` (on the grid the flow points into) read at x + flow(x), bilinear.
    public func sample(_ plane: Plane) -> Plane { warp(plane, dx: u, dy: v, interpolation: .bilinear) }

    /// `plane` (a grid of `size`, this flow's grid enlarged) read at x + flow(x), bilinear, with
    /// the flow itself enlarged bilinearly a row at a time as the warp reads it: what
    /// `resized(to: size, interpolation: .bilinear).sample(plane)` gives (up to float rounding)
    /// without making two full-resolution flow planes.
    public func sample(_ plane: Plane, enlargedTo size: Size) -> Plane {
        let enlarged = EnlargedFlow(self, to: size)
        return reading(plane, into: size) { reader, rows, output in
            var row = enlarged.emptyRow()
            for y in rows {
                enlarged.fill(&row, y: y)
                for x in 0..<size.width {
                    let (dx, dy) = enlarged.displacement(x, in: row)
                    output[y * size.width + x] = reader.bilinear(Float(x) + dx, Float(y) + dy)
                }
            }
        }
    }

    /// 1 where x + flow(x) lies inside a frame of the same size, else 0.
    public func coverage() -> Plane {
        var result = Plane(width: u.width, height: u.height)
        let right = Float(u.width) - 0.5, bottom = Float(u.height) - 0.5
        for y in 0..<u.height {
            for x in 0..<u.width {
                let sx = Float(x) + u[x, y], sy = Float(y) + v[x, y]
                result[x, y] = sx >= -0.5 && sx <= right && sy >= -0.5 && sy <= bottom ? 1 : 0
            }
        }
        return result
    }

    /// The flow on a grid of another size: both components resampled and the vectors scaled by
    /// the change of pixel size.
    public func resized(to size: Size, interpolation: Interpolation = .bicubic) -> FlowField {
        let full = u.size.bounds
        let sx = Float(size.width) / Float(u.width), sy = Float(size.height) / Float(u.height)
        var u = resample(self.u, from: full, to: size, interpolation: interpolation)
        var v = resample(self.v, from: full, to: size, interpolation: interpolation)
        scale(&u.pixels, by: sx)
        scale(&v.pixels, by: sy)
        return FlowField(u: u, v: v)
    }
}

func scale(_ values: inout [Float], by factor: Float) {
    values.withUnsafeMutableBufferPointer { buffer in
        for i in buffer.indices { buffer[i] *= factor }
    }
}

/// A flow enlarged bilinearly, one output row at a time: the row is first interpolated between
/// the low-resolution rows (still low-resolution across), then each output pixel between its
/// columns, with the vectors scaled to output pixels.
private struct EnlargedFlow {
    let flow: FlowField
    let columns: ResamplingTaps
    let rows: ResamplingTaps
    let scale: (x: Float, y: Float)

    init(_ flow: FlowField, to size: Size) {
        let low = flow.size
        self.flow = flow
        columns = ResamplingTaps(
            sourceStart: 0, sourceLength: Double(low.width), sourceCount: low.width, outputCount: size.width, kernel: .bilinear)
        rows = ResamplingTaps(
            sourceStart: 0, sourceLength: Double(low.height), sourceCount: low.height, outputCount: size.height, kernel: .bilinear)
        scale = (Float(size.width) / Float(low.width), Float(size.height) / Float(low.height))
    }

    func emptyRow() -> (u: [Float], v: [Float]) {
        let zeros = [Float](repeating: 0, count: flow.size.width)
        return (zeros, zeros)
    }

    /// Output row `y` of the flow, at low resolution across.
    func fill(_ row: inout (u: [Float], v: [Float]), y: Int) {
        let width = flow.size.width
        for x in 0..<width { (row.u[x], row.v[x]) = (0, 0) }
        for tap in 0..<rows.count {
            let weight = rows.weights[y * rows.count + tap]
            if weight == 0 { continue }
            let start = Int(rows.indices[y * rows.count + tap]) * width
            let (wu, wv) = (weight * scale.x, weight * scale.y)
            for x in 0..<width {
                row.u[x] += wu * flow.u.pixels[start + x]
                row.v[x] += wv * flow.v.pixels[start + x]
            }
        }
    }

    /// The displacement of output pixel `x` of a filled row.
    @inline(__always)
    func displacement(_ x: Int, in row: (u: [Float], v: [Float])) -> (Float, Float) {
        var dx: Float = 0, dy: Float = 0
        for tap in 0..<columns.count {
            let k = x * columns.count + tap, index = Int(columns.indices[k])
            dx += columns.weights[k] * row.u[index]
            dy += columns.weights[k] * row.v[index]
        }
        return (dx, dy)
    }
}
