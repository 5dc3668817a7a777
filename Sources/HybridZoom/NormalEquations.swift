/// Σ w·JᵀJ and −Σ w·Jᵀr of weighted least squares in five unknowns (lanes 5–7 stay zero), with
/// the residuals' absolute sum and count: the direct alignment's Gauss–Newton steps, the lens
/// residual's fit.
struct NormalEquations {
    // The rows of the symmetric matrix.
    var m0 = SIMD8<Double>.zero, m1 = SIMD8<Double>.zero, m2 = SIMD8<Double>.zero, m3 = SIMD8<Double>.zero, m4 = SIMD8<Double>.zero
    var right = SIMD8<Double>.zero
    var absoluteResidualSum = 0.0
    var count = 0

    @inline(__always)
    mutating func add(_ jacobian: SIMD8<Double>, residual: Double, weight: Double) {
        let weighted = weight * jacobian
        right -= weighted * residual
        m0 += weighted[0] * jacobian
        m1 += weighted[1] * jacobian
        m2 += weighted[2] * jacobian
        m3 += weighted[3] * jacobian
        m4 += weighted[4] * jacobian
        absoluteResidualSum += abs(residual)
        count += 1
    }

    static func + (a: NormalEquations, b: NormalEquations) -> NormalEquations {
        NormalEquations(
            m0: a.m0 + b.m0, m1: a.m1 + b.m1, m2: a.m2 + b.m2, m3: a.m3 + b.m3, m4: a.m4 + b.m4, right: a.right + b.right,
            absoluteResidualSum: a.absoluteResidualSum + b.absoluteResidualSum, count: a.count + b.count)
    }

    /// The unknowns that solve them (lanes 5–7 zero); nil when they are singular or the
    /// solution is not finite.
    func solved() -> SIMD8<Double>? {
        let matrix = [m0, m1, m2, m3, m4].flatMap { row in (0..<5).map { row[$0] } }
        guard let x = solveLinearSystem(matrix, (0..<5).map { right[$0] }, size: 5), x.allSatisfy(\.isFinite) else { return nil }
        return SIMD8(x[0], x[1], x[2], x[3], x[4], 0, 0, 0)
    }
}
