import Foundation

/// The last step of DIS at each pyramid level: the densified flow refined by minimising a
/// variational energy, so that patches that disagree (textureless, defocused or at an
/// occluder) are pulled towards what their neighbourhood supports:
///
///     E = Σ δ·ψ(brightness residual²) + γ·ψ(gradient residual²) + α·ψ(|∇u|² + |∇v|²),
///
/// ψ(s²) = √(s² + ε²) (robust), the data terms linearised around the current flow. Fixed-point
/// iterations recompute the robust weights; red–black successive over-relaxation solves the
/// linear system in between. Intensities are on a 0…255 scale, where the weights below work.
struct VariationalRefinement: Sendable {
    /// α (`DenseFlowSettings.refinementSmoothness`).
    var smoothness: Float
    var brightness: Float = 5  // δ
    var gradient: Float = 10  // γ
    var fixedPointIterations = 5
    var relaxationIterations = 5
    var relaxation: Float = 1.6  // ω of SOR

    init(smoothness: Float) { self.smoothness = smoothness }

    func refine(_ flow: FlowField, source: Plane, reference: Plane) -> FlowField {
        let width = flow.size.width, height = flow.size.height
        guard width > 2, height > 2 else { return flow }
        var terms = dataTerms(source: source, warped: flow.sample(reference))
        let layout = Checkerboard(width: width, height: height)
        var refined = flow  // u + du, v + dv, in the normal layout for the system's update
        var packed = layout.pack(flow)  // the same, per colour, for the sweeps
        var system = LinearSystem(layout: layout)
        for _ in 0..<fixedPointIterations {
            system.update(terms: &terms, base: flow, current: refined, settings: self)
            for _ in 0..<relaxationIterations {
                for colour in 0..<2 { relax(colour, &packed, &system) }
            }
            refined = layout.unpack(packed)
        }
        return refined
    }

    /// One half-sweep: the pixels of one colour of the checkerboard, each solving its 2×2
    /// system with its neighbours (all of the other colour) held fixed. In the packed layout a
    /// colour's pixels are contiguous along each row, so the sweep vectorises, and rows run in
    /// parallel.
    private func relax(_ colour: Int, _ packed: inout [Float], _ system: inout LinearSystem) {
        let layout = system.layout, omega = relaxation
        packed.withUnsafeMutableBufferPointer { flow in
            system.fields.withPointers { s in
                let flow = UncheckedSendable(flow)
                parallelChunks(layout.height, itemCost: layout.width / 2) { rows in
                    for y in rows {
                        let shift = (y + colour) & 1, count = (layout.width - shift + 1) / 2
                        let here = layout.rowStart(colour, y), other = layout.rowStart(1 - colour, y)
                        let above = layout.rowStart(1 - colour, y - 1), below = layout.rowStart(1 - colour, y + 1)
                        let u = flow.value.baseAddress!, v = u + layout.planeCount
                        let row = RelaxationRow(
                            s: s, u: u, v: v, here: here, left: other - 1 + shift,
                            right: other + shift, above: above, below: below, omega: omega)
                        // Eight at a time, the last group running into the row's padding.
                        for k in stride(from: 0, to: count, by: 8) { row.update(at: k) }
                    }
                }
            }
        }
    }
}

/// The pointers of one packed row of one colour, and the SOR update of eight pixels at once.
/// Every pointer is resolved once per row, so the update itself is loads, arithmetic, stores.
private struct RelaxationRow {
    let left, right, up, down, inverse11, inverse12, inverse22, e1, e2: UnsafePointer<Float>
    let u, v: UnsafeMutablePointer<Float>
    /// The neighbours' rows, as offsets from this row (left and right already shifted).
    let toLeft, toRight, toAbove, toBelow: Int
    let omega: Float

    init(
        s: FieldPointers<Coefficient>, u: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        here: Int, left: Int, right: Int, above: Int, below: Int, omega: Float
    ) {
        func row(_ field: Coefficient) -> UnsafePointer<Float> { UnsafePointer(s[field] + here) }
        (self.left, self.right, up, down) = (row(.left), row(.right), row(.up), row(.down))
        (inverse11, inverse12, inverse22, e1, e2) = (row(.inverse11), row(.inverse12), row(.inverse22), row(.e1), row(.e2))
        (self.u, self.v) = (u + here, v + here)
        (toLeft, toRight, toAbove, toBelow) = (left - here, right - here, above - here, below - here)
        self.omega = omega
    }

    @inline(__always)
    func update(at k: Int) {
        @inline(__always) func load(_ pointer: UnsafePointer<Float>, _ index: Int) -> SIMD8<Float> {
            UnsafeRawPointer(pointer + index).loadUnaligned(as: SIMD8<Float>.self)
        }
        let u = UnsafePointer(self.u), v = UnsafePointer(self.v)
        let (wl, wr, wu, wd) = (load(left, k), load(right, k), load(up, k), load(down, k))
        let pullU = wl * load(u, k + toLeft) + wr * load(u, k + toRight) + wu * load(u, k + toAbove) + wd * load(u, k + toBelow)
        let pullV = wl * load(v, k + toLeft) + wr * load(v, k + toRight) + wu * load(v, k + toAbove) + wd * load(v, k + toBelow)
        let i12 = load(inverse12, k)
        let targetU = load(e1, k) + load(inverse11, k) * pullU + i12 * pullV
        let targetV = load(e2, k) + i12 * pullU + load(inverse22, k) * pullV
        let currentU = load(u, k), currentV = load(v, k)
        UnsafeMutableRawPointer(self.u + k).storeBytes(of: currentU + omega * (targetU - currentU), as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(self.v + k).storeBytes(of: currentV + omega * (targetV - currentV), as: SIMD8<Float>.self)
    }
}

/// The red–black (checkerboard) packing: each colour's pixels of a row side by side, with
/// padding before and after each row and a padding row above and below, so that every
/// neighbour read stays in bounds (the padding's weights are 0) and a row can be swept eight
/// pixels at a time, the last eight running into the padding. u then v, each as two colours.
struct Checkerboard {
    let width: Int
    let height: Int
    /// Elements per packed row: one pad, half the width rounded up to a multiple of 8 (with room
    /// for a right neighbour), and one more pad.
    let stride: Int

    init(width: Int, height: Int) {
        (self.width, self.height) = (width, height)
        stride = 2 + ((width + 1) / 2 + 1 + 7) / 8 * 8
    }

    /// Elements of one colour of one component.
    var colourCount: Int { (height + 2) * stride }
    /// Elements of one component (both colours).
    var planeCount: Int { 2 * colourCount }

    /// Where row y of a colour starts (its first pixel, after the pad); y may be −1 or height.
    func rowStart(_ colour: Int, _ y: Int) -> Int { colour * colourCount + (y + 1) * stride + 1 }

    /// The packed index of pixel (x, y).
    func index(_ x: Int, _ y: Int) -> Int { rowStart((x + y) & 1, y) + x >> 1 }

    func pack(_ flow: FlowField) -> [Float] {
        var packed = [Float](repeating: 0, count: 2 * planeCount)
        for y in 0..<height {
            for x in 0..<width {
                packed[index(x, y)] = flow.u[x, y]
                packed[planeCount + index(x, y)] = flow.v[x, y]
            }
        }
        return packed
    }

    /// Back to the normal layout: eight pixels at a time, four from each colour, interleaved.
    func unpack(_ packed: [Float]) -> FlowField {
        var flow = FlowField(size: Size(width: width, height: height))
        packed.withUnsafeBufferPointer { packed in
            flow.u.pixels.withUnsafeMutableBufferPointer { u in
                flow.v.pixels.withUnsafeMutableBufferPointer { v in
                    for y in 0..<height {
                        var x = 0
                        while x + 8 <= width {
                            let even = index(x, y), odd = index(x + 1, y)
                            func interleave(_ component: Int, into plane: UnsafeMutableBufferPointer<Float>) {
                                var lanes = SIMD8<Float>()
                                lanes.evenHalf = UnsafeRawPointer(packed.baseAddress! + component + even).loadUnaligned(as: SIMD4<Float>.self)
                                lanes.oddHalf = UnsafeRawPointer(packed.baseAddress! + component + odd).loadUnaligned(as: SIMD4<Float>.self)
                                UnsafeMutableRawPointer(plane.baseAddress! + y * width + x).storeBytes(of: lanes, as: SIMD8<Float>.self)
                            }
                            interleave(0, into: u)
                            interleave(planeCount, into: v)
                            x += 8
                        }
                        for x in x..<width {
                            (u[y * width + x], v[y * width + x]) = (packed[index(x, y)], packed[planeCount + index(x, y)])
                        }
                    }
                }
            }
        }
        return flow
    }
}

/// Per-pixel fields stored one after another in one allocation, so that a loop takes one
/// pointer and the compiler sees plain contiguous arrays.
private struct Fields<Field: RawRepresentable & CaseIterable> where Field.RawValue == Int {
    let count: Int
    var storage: [Float]

    init(count: Int) {
        self.count = count
        storage = [Float](repeating: 0, count: count * Field.allCases.count)
    }

    /// Pointers to every field, valid inside `body`.
    mutating func withPointers<T>(_ body: (FieldPointers<Field>) -> T) -> T {
        let count = self.count
        return storage.withUnsafeMutableBufferPointer { body(FieldPointers(base: $0.baseAddress!, count: count)) }
    }
}

private struct FieldPointers<Field: RawRepresentable>: @unchecked Sendable where Field.RawValue == Int {
    let base: UnsafeMutablePointer<Float>
    let count: Int
    subscript(field: Field) -> UnsafeMutablePointer<Float> { base + field.rawValue * count }
}

/// Image derivatives for the linearised data terms (0…255 scale): the reference warped by the
/// current flow — brightness residual t, first derivatives x, y, second xx, xy, yy — and the
/// gradient-constancy residuals gxt, gyt against the source's derivatives.
private enum Term: Int, CaseIterable { case t, x, y, gxt, gyt, xx, xy, yy }

private func dataTerms(source: Plane, warped: Plane) -> Fields<Term> {
    let width = source.width, height = source.height
    var terms = Fields<Term>(count: width * height)
    terms.withPointers { f in
        source.pixels.withUnsafeBufferPointer { s in
            warped.pixels.withUnsafeBufferPointer { w in
                let (s, w) = (s.baseAddress!, w.baseAddress!)
                parallelChunks(height, itemCost: width) { rows in
                    for row in rows {
                        let up = max(row - 1, 0) * width, down = min(row + 1, height - 1) * width, here = row * width
                        // Interior columns eight at a time, the edges (where a neighbour repeats) one at a time.
                        var column = 1
                        while column + 9 <= width {
                            storeTerms(
                                f, here + column,
                                at: DataStencil(
                                    s: s, w: w, i: here + column, left: 1, right: 1,
                                    up: up + column, down: down + column
                                ) { pointer, index in
                                    UnsafeRawPointer(pointer + index).loadUnaligned(as: SIMD8<Float>.self)
                                }, lanes: 8)
                            column += 8
                        }
                        func edge(_ column: Int) {
                            let stencil = DataStencil(
                                s: s, w: w, i: here + column, left: column > 0 ? 1 : 0, right: column < width - 1 ? 1 : 0,
                                up: up + column, down: down + column
                            ) { pointer, index in SIMD8(repeating: pointer[index]) }
                            storeTerms(f, here + column, at: stencil, lanes: 1)
                        }
                        edge(0)
                        for column in column..<width { edge(column) }
                    }
                }
            }
        }
    }
    return terms
}

/// The neighbourhood of eight pixels (or one, repeated) that the data terms read.
private struct DataStencil {
    let s, w: UnsafePointer<Float>
    let i, left, right, up, down: Int
    let read: (UnsafePointer<Float>, Int) -> SIMD8<Float>
}

@inline(__always)
private func storeTerms(_ f: FieldPointers<Term>, _ i: Int, at n: DataStencil, lanes: Int) {
    let (wl, wr, wu, wd, wi) = (
        n.read(n.w, n.i - n.left) * 255, n.read(n.w, n.i + n.right) * 255, n.read(n.w, n.up) * 255,
        n.read(n.w, n.down) * 255, n.read(n.w, n.i) * 255
    )
    let x = (wr - wl) / 2, y = (wd - wu) / 2
    let xy = (n.read(n.w, n.down + n.right) - n.read(n.w, n.down - n.left) - n.read(n.w, n.up + n.right) + n.read(n.w, n.up - n.left)) * 255 / 4
    func store(_ value: SIMD8<Float>, _ term: Term) {
        if lanes == 8 { UnsafeMutableRawPointer(f[term] + i).storeBytes(of: value, as: SIMD8<Float>.self) } else { f[term][i] = value[0] }
    }
    store(wi - n.read(n.s, n.i) * 255, .t)
    store(x, .x)
    store(y, .y)
    store(x - (n.read(n.s, n.i + n.right) - n.read(n.s, n.i - n.left)) * 255 / 2, .gxt)
    store(y - (n.read(n.s, n.down) - n.read(n.s, n.up)) * 255 / 2, .gyt)
    store(wr - 2 * wi + wl, .xx)
    store(wd - 2 * wi + wu, .yy)
    store(xy, .xy)
}

/// Per pixel: the inverse of the 2×2 system (data plus α · the neighbours' weights), the data
/// part of its right-hand side, and α · each neighbour's smoothness weight, for the current
/// robust weights. All of it is constant during the relaxation sweeps.
private enum Coefficient: Int, CaseIterable { case inverse11, inverse12, inverse22, e1, e2, left, right, up, down, smooth }

private struct LinearSystem {
    /// Each coefficient in the packed checkerboard layout, but for `smooth`, which only `update`
    /// uses, in the normal layout.
    var fields: Fields<Coefficient>
    let layout: Checkerboard

    init(layout: Checkerboard) {
        fields = Fields(count: layout.planeCount)
        self.layout = layout
    }

    /// Robust weights from the current flow (`base` + increment = `current`), then the normal
    /// equations of the data residuals linearised around `base`. Eight pixels at a time away
    /// from the border, where every neighbour exists; one at a time at the border.
    mutating func update(terms: inout Fields<Term>, base: FlowField, current: FlowField, settings: VariationalRefinement) {
        let layout = self.layout, width = layout.width, height = layout.height
        let alpha = settings.smoothness, weights = (settings.brightness, settings.gradient)
        terms.withPointers { d in
            fields.withPointers { c in
                current.u.pixels.withUnsafeBufferPointer { cu in
                    current.v.pixels.withUnsafeBufferPointer { cv in
                        base.u.pixels.withUnsafeBufferPointer { bu in
                            base.v.pixels.withUnsafeBufferPointer { bv in
                                let flow = FlowPointers(cu: cu.baseAddress!, cv: cv.baseAddress!, bu: bu.baseAddress!, bv: bv.baseAddress!)
                                parallelChunks(height, itemCost: width) { rows in
                                    for y in rows {
                                        let below = y < height - 1 ? width : 0
                                        var x = 0
                                        if below != 0 {
                                            while x + 8 <= width - 1 {
                                                store(smoothness(flow, y * width + x, below: below), c[.smooth] + y * width + x)
                                                x += 8
                                            }
                                        }
                                        for x in x..<width {
                                            let i = y * width + x, r = x < width - 1 ? i + 1 : i, b = i + below
                                            let ux = flow.cu[r] - flow.cu[i], uy = flow.cu[b] - flow.cu[i]
                                            let vx = flow.cv[r] - flow.cv[i], vy = flow.cv[b] - flow.cv[i]
                                            c[.smooth][i] = 1 / (2 * (ux * ux + uy * uy + vx * vx + vy * vy + epsilon * epsilon).squareRoot())
                                        }
                                    }
                                }
                                parallelChunks(height, itemCost: width) { rows in
                                    for y in rows {
                                        let interior = y > 0 && y < height - 1
                                        var x = 0
                                        while x < width {
                                            if interior, x + 8 <= width {
                                                // The first and last pixels of a row have no left or right neighbour.
                                                let hasLeft: SIMD8<Float> = x == 0 ? [0, 1, 1, 1, 1, 1, 1, 1] : .one
                                                let hasRight: SIMD8<Float> = x + 8 == width ? [1, 1, 1, 1, 1, 1, 1, 0] : .one
                                                let i = y * width + x, smooth = UnsafePointer(c[.smooth])
                                                let here = load(smooth, i)
                                                let left = hasLeft * alpha * (here + load(smooth, i - 1)) / 2
                                                let right = hasRight * alpha * (here + load(smooth, i + 1)) / 2
                                                let up = alpha * (here + load(smooth, i - width)) / 2,
                                                    down = alpha * (here + load(smooth, i + width)) / 2
                                                func term(_ field: Term) -> SIMD8<Float> { load(d[field], i) }
                                                let solved = solve(
                                                    DataPoint(
                                                        t: term(.t), x: term(.x), y: term(.y), gxt: term(.gxt), gyt: term(.gyt),
                                                        xx: term(.xx), xy: term(.xy), yy: term(.yy),
                                                        p: load(flow.cu, i) - load(flow.bu, i), q: load(flow.cv, i) - load(flow.bv, i)),
                                                    weight: left + right + up + down, weights)
                                                let even = layout.index(x, y), odd = layout.index(x + 1, y)
                                                func put(_ value: SIMD8<Float>, _ field: Coefficient) { scatter(value, c[field], even, odd) }
                                                let target = solved.target(
                                                    base: (load(flow.bu, i), load(flow.bv, i)), weight: left + right + up + down)
                                                put(solved.inverse11, .inverse11)
                                                put(solved.inverse12, .inverse12)
                                                put(solved.inverse22, .inverse22)
                                                (put(target.u, .e1), put(target.v, .e2))
                                                (put(left, .left), put(right, .right), put(up, .up), put(down, .down))
                                                x += 8
                                            } else {
                                                updatePixel(x, y, layout, d, c, flow, alpha, weights)
                                                x += 1
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

}

/// One pixel, at the border or at a row's ends: weights to missing neighbours are 0. (Its
/// system is solved in one lane of eight, so the arithmetic is the same as in the body.)
private func updatePixel(
    _ x: Int, _ y: Int, _ layout: Checkerboard, _ d: FieldPointers<Term>, _ c: FieldPointers<Coefficient>,
    _ flow: FlowPointers, _ alpha: Float, _ weights: (Float, Float)
) {
    let width = layout.width, height = layout.height, i = y * width + x, smooth = c[.smooth]
    let right = x < width - 1 ? alpha * (smooth[i] + smooth[i + 1]) / 2 : 0
    let down = y < height - 1 ? alpha * (smooth[i] + smooth[i + width]) / 2 : 0
    let left = x > 0 ? alpha * (smooth[i] + smooth[i - 1]) / 2 : 0
    let up = y > 0 ? alpha * (smooth[i] + smooth[i - width]) / 2 : 0
    let weight = left + right + up + down
    func term(_ field: Term) -> SIMD8<Float> { SIMD8(repeating: d[field][i]) }
    let point = DataPoint(
        t: term(.t), x: term(.x), y: term(.y), gxt: term(.gxt), gyt: term(.gyt), xx: term(.xx), xy: term(.xy),
        yy: term(.yy), p: SIMD8(repeating: flow.cu[i] - flow.bu[i]), q: SIMD8(repeating: flow.cv[i] - flow.bv[i]))
    let solved = solve(point, weight: SIMD8(repeating: weight), weights)
    let target = solved.target(base: (SIMD8(repeating: flow.bu[i]), SIMD8(repeating: flow.bv[i])), weight: SIMD8(repeating: weight))
    let packed = layout.index(x, y)
    (c[.left][packed], c[.right][packed], c[.up][packed], c[.down][packed]) = (left, right, up, down)
    (c[.inverse11][packed], c[.inverse12][packed], c[.inverse22][packed]) = (solved.inverse11[0], solved.inverse12[0], solved.inverse22[0])
    (c[.e1][packed], c[.e2][packed]) = (target.u[0], target.v[0])
}

/// Eight consecutive pixels' values into the packed layout, from an even x: the even lanes go to
/// one colour's row at `even`, the odd ones to the other's at `odd`, four consecutive values each.
@inline(__always)
private func scatter(_ value: SIMD8<Float>, _ field: UnsafeMutablePointer<Float>, _ even: Int, _ odd: Int) {
    UnsafeMutableRawPointer(field + even).storeBytes(of: value.evenHalf, as: SIMD4<Float>.self)
    UnsafeMutableRawPointer(field + odd).storeBytes(of: value.oddHalf, as: SIMD4<Float>.self)
}

/// The current and base flow, in the normal layout.
private struct FlowPointers: @unchecked Sendable {
    let cu, cv, bu, bv: UnsafePointer<Float>
}

@inline(__always)
private func load(_ pointer: UnsafePointer<Float>, _ index: Int) -> SIMD8<Float> {
    UnsafeRawPointer(pointer + index).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
private func store(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
}

private let epsilon: Float = 0.001

/// The robust smoothness weight ψ′ of eight pixels from i on: 1 / (2 √(|∇u|² + |∇v|² + ε²)),
/// by forward differences, the lower neighbour `below` elements away.
@inline(__always)
private func smoothness(_ f: FlowPointers, _ i: Int, below: Int) -> SIMD8<Float> {
    let u = load(f.cu, i), v = load(f.cv, i)
    let ux = load(f.cu, i + 1) - u, uy = load(f.cu, i + below) - u
    let vx = load(f.cv, i + 1) - v, vy = load(f.cv, i + below) - v
    return 1 / (2 * (ux * ux + uy * uy + vx * vx + vy * vy + epsilon * epsilon).squareRoot())
}

/// Eight pixels' data terms and flow increments (p, q).
private struct DataPoint {
    var t, x, y, gxt, gyt, xx, xy, yy, p, q: SIMD8<Float>
}

/// Eight pixels' 2×2 systems, inverted, with their data right-hand sides.
private struct Solved {
    var inverse11, inverse12, inverse22, b1, b2: SIMD8<Float>

    /// The part of each pixel's solution that does not depend on its neighbours:
    /// base + A⁻¹ (b − W · base). A sweep adds A⁻¹ · (the neighbours' weighted flow).
    func target(base: (SIMD8<Float>, SIMD8<Float>), weight: SIMD8<Float>) -> (u: SIMD8<Float>, v: SIMD8<Float>) {
        let r1 = b1 - weight * base.0, r2 = b2 - weight * base.1
        return (base.0 + inverse11 * r1 + inverse12 * r2, base.1 + inverse12 * r1 + inverse22 * r2)
    }
}

/// The 2×2 system of eight pixels (data terms with their robust weights, plus the
/// neighbours' total `weight` on the diagonal), inverted, and its data right-hand side.
@inline(__always)
private func solve(_ d: DataPoint, weight: SIMD8<Float>, _ weights: (Float, Float)) -> Solved {
    let (p, q, tx, ty, xx, xy, yy) = (d.p, d.q, d.x, d.y, d.xx, d.xy, d.yy)
    let (t, gxt, gyt) = (d.t, d.gxt, d.gyt)
    let residual = t + tx * p + ty * q
    let rx = gxt + xx * p + xy * q, ry = gyt + xy * p + yy * q
    let wb = weights.0 / (2 * (residual * residual + epsilon * epsilon).squareRoot())
    let wg = weights.1 / (2 * (rx * rx + ry * ry + epsilon * epsilon).squareRoot())
    let a11 = wb * tx * tx + wg * (xx * xx + xy * xy) + weight
    let a12 = wb * tx * ty + wg * (xx * xy + xy * yy)
    let a22 = wb * ty * ty + wg * (xy * xy + yy * yy) + weight
    let determinant = a11 * a22 - a12 * a12
    let scale = (1 / determinant).replacing(with: 0, where: determinant .<= 1e-12)
    return Solved(
        inverse11: a22 * scale, inverse12: -a12 * scale, inverse22: a11 * scale,
        b1: -(wb * tx * t + wg * (xx * gxt + xy * gyt)), b2: -(wb * ty * t + wg * (xy * gxt + yy * gyt)))
}
