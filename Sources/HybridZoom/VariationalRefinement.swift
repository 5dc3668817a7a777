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
    /// α, chosen on the evaluation set (`hzsr flow`): 300 to 3000 do about equally well; the
    /// simulated scenes' parallax is smooth, and so is most real parallax.
    var smoothness: Float = 1000
    var brightness: Float = 5   // δ
    var gradient: Float = 10    // γ
    var fixedPointIterations = 5
    var relaxationIterations = 5
    var relaxation: Float = 1.6  // ω of SOR

    func refine(_ flow: FlowField, source: Plane, reference: Plane) -> FlowField {
        let width = flow.size.width, height = flow.size.height
        guard width > 2, height > 2 else { return flow }
        var terms = dataTerms(source: source, warped: flow.sample(reference))
        var refined = flow  // u + du, v + dv, updated in place
        var system = LinearSystem(width: width, height: height)
        for _ in 0..<fixedPointIterations {
            system.update(terms: &terms, base: flow, current: refined, settings: self)
            for _ in 0..<relaxationIterations {
                for colour in 0..<2 { relax(colour, &refined, base: flow, &system) }
            }
        }
        return refined
    }

    /// One half-sweep: the pixels of one colour of the checkerboard, each solving its 2×2
    /// system with its neighbours (all of the other colour) held fixed, so rows run in parallel.
    private func relax(_ colour: Int, _ refined: inout FlowField, base: FlowField, _ system: inout LinearSystem) {
        let width = base.size.width, height = base.size.height, omega = relaxation
        refined.u.pixels.withUnsafeMutableBufferPointer { u in
            refined.v.pixels.withUnsafeMutableBufferPointer { v in
                base.u.pixels.withUnsafeBufferPointer { u0 in
                    base.v.pixels.withUnsafeBufferPointer { v0 in
                        system.fields.withPointers { s in
                            let shared = UncheckedSendable((u, v))
                            parallelChunks(height, itemCost: width / 2) { rows in
                                let (u, v) = shared.value
                                for y in rows {
                                    for x in stride(from: (y + colour) % 2, to: width, by: 2) {
                                        let i = y * width + x
                                        // α · the neighbours' pull towards their flow (weights are 0 past the border).
                                        let l = x > 0 ? i - 1 : i, r = x < width - 1 ? i + 1 : i
                                        let up = y > 0 ? i - width : i, dn = y < height - 1 ? i + width : i
                                        let pullU = s[.left][i] * u[l] + s[.right][i] * u[r] + s[.up][i] * u[up] + s[.down][i] * u[dn] - s[.weight][i] * u0[i]
                                        let pullV = s[.left][i] * v[l] + s[.right][i] * v[r] + s[.up][i] * v[up] + s[.down][i] * v[dn] - s[.weight][i] * v0[i]
                                        let b1 = s[.b1][i] + pullU, b2 = s[.b2][i] + pullV
                                        let du = s[.inverse11][i] * b1 + s[.inverse12][i] * b2, dv = s[.inverse12][i] * b1 + s[.inverse22][i] * b2
                                        u[i] += omega * (u0[i] + du - u[i])
                                        v[i] += omega * (v0[i] + dv - v[i])
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
                parallelChunks(height, itemCost: width) { rows in
                    for row in rows {
                        let up = max(row - 1, 0) * width, down = min(row + 1, height - 1) * width, here = row * width
                        for column in 0..<width {
                            let left = here + max(column - 1, 0), right = here + min(column + 1, width - 1), i = here + column
                            let (wl, wr, wu, wd, wi) = (w[left] * 255, w[right] * 255, w[up + column] * 255, w[down + column] * 255, w[i] * 255)
                            f[.t][i] = wi - s[i] * 255
                            f[.x][i] = (wr - wl) / 2
                            f[.y][i] = (wd - wu) / 2
                            f[.gxt][i] = f[.x][i] - (s[right] - s[left]) * 255 / 2
                            f[.gyt][i] = f[.y][i] - (s[down + column] - s[up + column]) * 255 / 2
                            f[.xx][i] = wr - 2 * wi + wl
                            f[.yy][i] = wd - 2 * wi + wu
                            let corner = min(column + 1, width - 1), opposite = max(column - 1, 0)
                            f[.xy][i] = (w[down + corner] - w[down + opposite] - w[up + corner] + w[up + opposite]) * 255 / 4
                        }
                    }
                }
            }
        }
    }
    return terms
}

/// Per pixel: the inverse of the 2×2 system (data plus α · the neighbours' weights), the data
/// part of its right-hand side, and α · each neighbour's smoothness weight, for the current
/// robust weights. All of it is constant during the relaxation sweeps.
private enum Coefficient: Int, CaseIterable { case inverse11, inverse12, inverse22, b1, b2, left, right, up, down, weight, smooth }

private struct LinearSystem {
    var fields: Fields<Coefficient>
    let width: Int

    init(width: Int, height: Int) {
        fields = Fields(count: width * height)
        self.width = width
    }

    /// Robust weights from the current flow (`base` + increment = `current`), then the normal
    /// equations of the data residuals linearised around `base`.
    mutating func update(terms: inout Fields<Term>, base: FlowField, current: FlowField, settings: VariationalRefinement) {
        let width = self.width, height = fields.count / width
        let epsilon: Float = 0.001, alpha = settings.smoothness
        let (delta, gamma) = (settings.brightness, settings.gradient)
        terms.withPointers { d in
            fields.withPointers { c in
                current.u.pixels.withUnsafeBufferPointer { cu in current.v.pixels.withUnsafeBufferPointer { cv in
                    base.u.pixels.withUnsafeBufferPointer { bu in base.v.pixels.withUnsafeBufferPointer { bv in
                        parallelChunks(height, itemCost: width) { rows in
                            for y in rows {
                                for x in 0..<width {
                                    let i = y * width + x, r = x < width - 1 ? i + 1 : i, b = y < height - 1 ? i + width : i
                                    let ux = cu[r] - cu[i], uy = cu[b] - cu[i], vx = cv[r] - cv[i], vy = cv[b] - cv[i]
                                    c[.smooth][i] = 1 / (2 * (ux * ux + uy * uy + vx * vx + vy * vy + epsilon * epsilon).squareRoot())
                                }
                            }
                        }
                        parallelChunks(height, itemCost: width) { rows in
                            for y in rows {
                                for x in 0..<width {
                                    let i = y * width + x, smooth = c[.smooth]
                                    let right = x < width - 1 ? alpha * (smooth[i] + smooth[i + 1]) / 2 : 0
                                    let down = y < height - 1 ? alpha * (smooth[i] + smooth[i + width]) / 2 : 0
                                    let left = x > 0 ? alpha * (smooth[i] + smooth[i - 1]) / 2 : 0
                                    let up = y > 0 ? alpha * (smooth[i] + smooth[i - width]) / 2 : 0
                                    let weight = left + right + up + down
                                    (c[.right][i], c[.down][i], c[.left][i], c[.up][i], c[.weight][i]) = (right, down, left, up, weight)

                                    let p = cu[i] - bu[i], q = cv[i] - bv[i]
                                    let (tx, ty, xx, xy, yy) = (d[.x][i], d[.y][i], d[.xx][i], d[.xy][i], d[.yy][i])
                                    let (t, gxt, gyt) = (d[.t][i], d[.gxt][i], d[.gyt][i])
                                    let residual = t + tx * p + ty * q
                                    let rx = gxt + xx * p + xy * q, ry = gyt + xy * p + yy * q
                                    let wb = delta / (2 * (residual * residual + epsilon * epsilon).squareRoot())
                                    let wg = gamma / (2 * (rx * rx + ry * ry + epsilon * epsilon).squareRoot())
                                    let a11 = wb * tx * tx + wg * (xx * xx + xy * xy) + weight
                                    let a12 = wb * tx * ty + wg * (xx * xy + xy * yy)
                                    let a22 = wb * ty * ty + wg * (xy * xy + yy * yy) + weight
                                    c[.b1][i] = -(wb * tx * t + wg * (xx * gxt + xy * gyt))
                                    c[.b2][i] = -(wb * ty * t + wg * (xy * gxt + yy * gyt))
                                    let determinant = a11 * a22 - a12 * a12
                                    let scale: Float = determinant > 1e-12 ? 1 / determinant : 0
                                    (c[.inverse11][i], c[.inverse12][i], c[.inverse22][i]) = (a22 * scale, -a12 * scale, a11 * scale)
                                }
                            }
                        }
                    } }
                } }
            }
        }
    }
}
