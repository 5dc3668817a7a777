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
