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
    /// without making two full-resolution flow planes. `finish(y, row, spare)` may change each
    /// row while it is in cache, with a spare row of `size.width` floats (whose contents are
    /// whatever it last held) for its own use.
    ///
    /// The plane, floats or T as decoded in 8 bits, is read a band of output rows at a time,
    /// each band only the rows between where its vectors land, as far as the flow's rows that
    /// make them reach.
    func sample<P: ReadablePlane>(
        _ plane: P, enlargedTo size: Size,
        finishingRows finish: (_ y: Int, _ row: UnsafeMutablePointer<Float>, _ spare: UnsafeMutablePointer<Float>) -> Void = { _, _, _ in }
    ) -> Plane {
        let enlarged = EnlargedFlow(self, to: size), extremes = enlarged.verticalExtremes()
        let sourceRows = { rows in rowsRead(at: enlarged.positions(of: rows, extremes: extremes), taps: Interpolation.bilinear.rowTaps) }
        return reading(plane, into: size, sourceRows: sourceRows) { reader, rows, output in
            enlarged.sample(reader, rows: rows, into: output, finishingRows: finish)
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
    let across: RowResampler
    let rows: ResamplingTaps
    let scale: (x: Float, y: Float)
    let outputWidth: Int
    static let lanes = SIMD8<Float>(0, 1, 2, 3, 4, 5, 6, 7)

    /// One output row's displacements, the low-resolution row they are made from, and room for
    /// that row with its edges repeated.
    struct Row {
        let u: UnsafeMutableBufferPointer<Float>
        let v: UnsafeMutableBufferPointer<Float>
        let padded: UnsafeMutablePointer<Float>
        let dx: UnsafeMutableBufferPointer<Float>
        let dy: UnsafeMutableBufferPointer<Float>

        init(lowWidth: Int, width: Int, reach: Int) {
            (u, v) = (.allocate(capacity: lowWidth), .allocate(capacity: lowWidth))
            padded = .allocate(capacity: lowWidth + reach)
            (dx, dy) = (.allocate(capacity: width), .allocate(capacity: width))
        }

        func deallocate() { (u.deallocate(), v.deallocate(), padded.deallocate(), dx.deallocate(), dy.deallocate()) }
    }

    func makeRow(width: Int) -> Row {
        Row(lowWidth: flow.size.width, width: width, reach: across.reachBefore + across.reachAfter)
    }

    init(_ flow: FlowField, to size: Size) {
        let low = flow.size
        self.flow = flow
        across = RowResampler(
            ResamplingTaps(
                sourceStart: 0, sourceLength: Double(low.width), sourceCount: low.width, outputCount: size.width, kernel: .bilinear))
        rows = ResamplingTaps(
            sourceStart: 0, sourceLength: Double(low.height), sourceCount: low.height, outputCount: size.height, kernel: .bilinear)
        scale = (Float(size.width) / Float(low.width), Float(size.height) / Float(low.height))
        outputWidth = size.width
    }

    /// Rows `rows` of the plane the flow points into, read at x + flow(x), bilinear, into
    /// `output` (the whole output plane), each row then given to `finish` with a spare row.
    func sample(
        _ reader: PlaneReader, rows: Range<Int>, into output: UnsafeMutableBufferPointer<Float>,
        finishingRows finish: (_ y: Int, _ row: UnsafeMutablePointer<Float>, _ spare: UnsafeMutablePointer<Float>) -> Void
    ) {
        let width = outputWidth
        let row = makeRow(width: width)
        defer { row.deallocate() }
        for y in rows {
            fill(row, y: y)
            let outputRow = output.baseAddress! + y * width
            var x = 0
            while x + 8 <= width {
                let dx = UnsafeRawPointer(row.dx.baseAddress! + x).loadUnaligned(as: SIMD8<Float>.self)
                let dy = UnsafeRawPointer(row.dy.baseAddress! + x).loadUnaligned(as: SIMD8<Float>.self)
                let sampled = reader.bilinear(Float(x) + Self.lanes + dx, Float(y) + dy)
                UnsafeMutableRawPointer(outputRow + x).storeBytes(of: sampled, as: SIMD8<Float>.self)
                x += 8
            }
            for x in x..<width {
                outputRow[x] = reader.bilinear(Float(x) + row.dx[x], Float(y) + row.dy[x])
            }
            finish(y, outputRow, row.dx.baseAddress!)
        }
    }

    /// Each low-resolution row's smallest and largest vertical displacement.
    func verticalExtremes() -> [ClosedRange<Float>] {
        let low = flow.size
        return (0..<low.height).map { y in
            let row = flow.v.pixels[(y * low.width)..<((y + 1) * low.width)]
            return row.min()!...row.max()!
        }
    }

    /// Where output rows `rows` read, vertically: each enlarged vector is a weighted mean (with
    /// weights of one sign) of the low-resolution vectors of the rows its taps read, so it lies
    /// within their extremes (`verticalExtremes`).
    func positions(of rows: Range<Int>, extremes: [ClosedRange<Float>]) -> ClosedRange<Float> {
        let low = self.rows.sourceRange(of: rows)
        let lowest = low.map { extremes[$0].lowerBound }.min()! * scale.y
        let highest = low.map { extremes[$0].upperBound }.max()! * scale.y
        return (Float(rows.lowerBound) + lowest)...(Float(rows.upperBound - 1) + highest)
    }

    /// Output row `y` of the flow: first at low resolution across, then enlarged.
    func fill(_ row: Row, y: Int) {
        let width = flow.size.width
        row.u.update(repeating: 0)
        row.v.update(repeating: 0)
        flow.u.pixels.withUnsafeBufferPointer { u in
            flow.v.pixels.withUnsafeBufferPointer { v in
                for tap in (y * rows.count)..<((y + 1) * rows.count) where rows.weights[tap] != 0 {
                    let weight = rows.weights[tap], start = Int(rows.indices[tap]) * width
                    let (wu, wv) = (weight * scale.x, weight * scale.y)
                    for x in 0..<width {
                        row.u[x] += wu * u[start + x]
                        row.v[x] += wv * v[start + x]
                    }
                }
            }
        }
        across.resampleRow(UnsafePointer(row.u.baseAddress!), width: width, padded: row.padded, into: row.dx.baseAddress!)
        across.resampleRow(UnsafePointer(row.v.baseAddress!), width: width, padded: row.padded, into: row.dy.baseAddress!)
    }
}
