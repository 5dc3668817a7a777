import Foundation

/// A projective map of the plane, in continuous pixel coordinates (pixel (i, j) covers
/// [i, i+1) × [j, j+1)): where a point of the source grid lies in the reference grid. The coarse
/// alignment's model of how T's view differs from `I_src` as a whole (rotation, scale,
/// translation and, for a planar scene or a rotating camera, perspective); the dense flow only
/// has to find the parallax left over.
public struct Homography: Sendable, Equatable, Codable {
    /// Row-major 3 × 3, normalised so that the last entry is 1.
    public private(set) var matrix: [Double]

    public init(_ matrix: [Double]) {
        precondition(matrix.count == 9, "a homography has 9 entries, not \(matrix.count)")
        self.matrix = matrix[8] != 0 ? matrix.map { $0 / matrix[8] } : matrix
    }

    public static let identity = Homography([1, 0, 0, 0, 1, 0, 0, 0, 1])

    /// x ↦ s·R(θ)·(x − centre) + centre + t: turned by `rotation` radians and scaled by `scale`
    /// about `centre`, then moved by `translation`.
    public static func similarity(
        scale: Double, rotation: Double, translation: SIMD2<Double>, about centre: SIMD2<Double>
    )
        -> Homography
    {
        let a = scale * cos(rotation), b = scale * sin(rotation)
        let t = centre + translation - SIMD2(a * centre.x - b * centre.y, b * centre.x + a * centre.y)
        return Homography([a, -b, t.x, b, a, t.y, 0, 0, 1])
    }

    /// x ↦ (sx·x, sy·y): a grid's points on a grid `sx` × `sy` times as fine.
    public static func scaling(x sx: Double, y sy: Double) -> Homography {
        Homography([sx, 0, 0, 0, sy, 0, 0, 0, 1])
    }

    /// This map, then `next`.
    public func followed(by next: Homography) -> Homography {
        Homography(multiply(next.matrix, matrix))
    }

    public func apply(_ point: SIMD2<Double>) -> SIMD2<Double> {
        let m = matrix
        let w = m[6] * point.x + m[7] * point.y + m[8]
        return SIMD2(m[0] * point.x + m[1] * point.y + m[2], m[3] * point.x + m[4] * point.y + m[5]) / w
    }

    /// The map that undoes this one; nil when it cannot be undone.
    public var inverse: Homography? {
        let m = matrix
        let cofactors = [
            m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
            m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
            m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3],
        ]
        let determinant = m[0] * cofactors[0] + m[1] * cofactors[3] + m[2] * cofactors[6]
        guard abs(determinant) > 1e-12, cofactors[8] != 0 else { return nil }
        return Homography(cofactors)
    }

    /// The same map between grids whose pixels are `1/sx` × `1/sy` as large (a plane resampled
    /// from `w × h` to `sx·w × sy·h`).
    public func scaled(x sx: Double, y sy: Double) -> Homography {
        let m = matrix
        return Homography([m[0], m[1] * sx / sy, m[2] * sx, m[3] * sy / sx, m[4], m[5] * sy, m[6] / sx, m[7] / sy, m[8]])
    }

    /// The map's local scale (√|det J|) and rotation (radians) at `point`, from its Jacobian J.
    public func localScaleAndRotation(at point: SIMD2<Double>) -> (scale: Double, rotation: Double) {
        let m = matrix
        let w = m[6] * point.x + m[7] * point.y + m[8]
        let mapped = apply(point)
        let j00 = (m[0] - mapped.x * m[6]) / w, j01 = (m[1] - mapped.x * m[7]) / w
        let j10 = (m[3] - mapped.y * m[6]) / w, j11 = (m[4] - mapped.y * m[7]) / w
        return ((abs(j00 * j11 - j01 * j10)).squareRoot(), atan2(j10 - j01, j00 + j11))
    }

    /// The similarity that maps `sources` onto `targets` best in least squares; nil for fewer
    /// than two distinct points.
    /// The translation by the matches' median displacement (robust to the odd outlier left).
    public static func fitTranslation(_ sources: [SIMD2<Double>], _ targets: [SIMD2<Double>]) -> Homography? {
        guard !sources.isEmpty, sources.count == targets.count else { return nil }
        let moves = zip(sources, targets).map { $1 - $0 }
        return Homography([1, 0, median(moves.map(\.x)), 0, 1, median(moves.map(\.y)), 0, 0, 1])
    }

    public static func fitSimilarity(_ sources: [SIMD2<Double>], _ targets: [SIMD2<Double>]) -> Homography? {
        precondition(sources.count == targets.count, "\(sources.count) sources for \(targets.count) targets")
        guard sources.count >= 2 else { return nil }
        let count = Double(sources.count)
        let sourceMean = sources.reduce(.zero, +) / count, targetMean = targets.reduce(.zero, +) / count
        // q − q̄ = [a −b; b a](p − p̄): a and b from the centred points, in closed form.
        var (dot, cross, norm) = (0.0, 0.0, 0.0)
        for (p, q) in zip(sources, targets) {
            let u = p - sourceMean, v = q - targetMean
            dot += u.x * v.x + u.y * v.y
            cross += u.x * v.y - u.y * v.x
            norm += u.x * u.x + u.y * u.y
        }
        guard norm > 1e-9 else { return nil }
        let (a, b) = (dot / norm, cross / norm)
        let t = targetMean - SIMD2(a * sourceMean.x - b * sourceMean.y, b * sourceMean.x + a * sourceMean.y)
        return Homography([a, -b, t.x, b, a, t.y, 0, 0, 1])
    }

    /// The homography that maps `sources` onto `targets` best in least squares (the direct
    /// linear transform on points normalised to unit spread, so that it is well conditioned);
    /// nil for fewer than four points or points in a degenerate configuration.
    public static func fitProjective(_ sources: [SIMD2<Double>], _ targets: [SIMD2<Double>]) -> Homography? {
        precondition(sources.count == targets.count, "\(sources.count) sources for \(targets.count) targets")
        guard sources.count >= 4, let from = Normalisation(sources), let to = Normalisation(targets) else { return nil }
        // With h₈ = 1, each pair gives two equations in h₀…h₇; solved through the normal equations.
        var normal = [Double](repeating: 0, count: 64), right = [Double](repeating: 0, count: 8)
        for (p, q) in zip(sources.map(from.apply), targets.map(to.apply)) {
            for (row, value) in [
                ([p.x, p.y, 1, 0, 0, 0, -p.x * q.x, -p.y * q.x], q.x), ([0, 0, 0, p.x, p.y, 1, -p.x * q.y, -p.y * q.y], q.y),
            ] {
                for i in 0..<8 {
                    right[i] += row[i] * value
                    for j in 0..<8 { normal[i * 8 + j] += row[i] * row[j] }
                }
            }
        }
        guard let h = solveLinearSystem(normal, right, size: 8), let undo = to.matrix.inverse else { return nil }
        // Undo the normalisations: H = T⁻¹·Ĥ·S.
        return Homography(multiply(multiply(undo.matrix, h + [1]), from.matrix.matrix))
    }
}

/// Moves points to their centroid and scales them to a mean distance of √2 from it.
private struct Normalisation {
    let matrix: Homography

    init?(_ points: [SIMD2<Double>]) {
        let mean = points.reduce(.zero, +) / Double(points.count)
        let spread = points.reduce(0) { $0 + (($1 - mean) * ($1 - mean)).sum().squareRoot() } / Double(points.count)
        guard spread > 1e-9 else { return nil }
        let s = 2.0.squareRoot() / spread
        matrix = Homography([s, 0, -s * mean.x, 0, s, -s * mean.y, 0, 0, 1])
    }

    func apply(_ point: SIMD2<Double>) -> SIMD2<Double> { matrix.apply(point) }
}

private func multiply(_ a: [Double], _ b: [Double]) -> [Double] {
    (0..<9).map { index in
        let (row, column) = (index / 3, index % 3)
        return (0..<3).reduce(0) { $0 + a[row * 3 + $1] * b[$1 * 3 + column] }
    }
}

/// Gaussian elimination with partial pivoting on a small dense system; nil when it is singular.
func solveLinearSystem(_ matrix: [Double], _ right: [Double], size n: Int) -> [Double]? {
    var a = matrix, b = right
    for column in 0..<n {
        let pivot = (column..<n).max { abs(a[$0 * n + column]) < abs(a[$1 * n + column]) }!
        guard abs(a[pivot * n + column]) > 1e-12 else { return nil }
        if pivot != column {
            for k in 0..<n { a.swapAt(pivot * n + k, column * n + k) }
            b.swapAt(pivot, column)
        }
        for row in (column + 1)..<n {
            let factor = a[row * n + column] / a[column * n + column]
            guard factor != 0 else { continue }
            for k in column..<n { a[row * n + k] -= factor * a[column * n + k] }
            b[row] -= factor * b[column]
        }
    }
    var x = [Double](repeating: 0, count: n)
    for row in stride(from: n - 1, through: 0, by: -1) {
        let known = ((row + 1)..<n).reduce(0) { $0 + a[row * n + $1] * x[$1] }
        x[row] = (b[row] - known) / a[row * n + row]
    }
    return x
}
