/// Each inlier refined to sub-pixel precision; inliers whose patch cannot pin an offset (an
/// edge: the aperture problem) or whose refinement wanders off are dropped.
func refinedMatches(_ inliers: [CornerMatch], source: Plane, reference: Plane) -> [PointMatch] {
    var refined = [PointMatch?](repeating: nil, count: inliers.count)
    source.pixels.withUnsafeBufferPointer { sourcePixels in
        reference.pixels.withUnsafeBufferPointer { referencePixels in
            refined.withUnsafeMutableBufferPointer { refined in
                let refined = UncheckedSendable(refined)
                parallelChunks(inliers.count) { range in
                    var tracker = PatchTracker(source: sourcePixels, reference: referencePixels, size: source.size)
                    for index in range {
                        let match = inliers[index]
                        guard let offset = tracker.refine(match) else { continue }
                        let point = SIMD2(Double(match.source.x) + 0.5, Double(match.source.y) + 0.5)
                        refined.value[index] = PointMatch(source: point, target: point + SIMD2<Double>(offset))
                    }
                }
            }
        }
    }
    return refined.compactMap { $0 }
}

/// Inverse-compositional Lucas–Kanade (Baker & Matthews 2004) for a translation, on mean-normalised
/// patches so that T's gain and offset do not matter. The source patch is the template; its
/// gradients and Hessian are computed once, and each step only resamples the reference.
/// Its buffers are reused from one patch to the next.
struct PatchTracker {
    let source: UnsafeBufferPointer<Float>
    let reference: UnsafeBufferPointer<Float>
    let size: Size
    private var template: [Float]
    private var gradientX: [Float]
    private var gradientY: [Float]
    private var warped: [Float]

    init(source: UnsafeBufferPointer<Float>, reference: UnsafeBufferPointer<Float>, size: Size) {
        (self.source, self.reference, self.size) = (source, reference, size)
        template = [Float](repeating: 0, count: MatchPatch.area)
        gradientX = template
        gradientY = template
        warped = template
    }

    /// The offset, near `match.offset`, at which the reference best matches the source patch.
    mutating func refine(_ match: CornerMatch) -> SIMD2<Float>? {
        guard let hessian = prepareTemplate(at: match.source) else { return nil }
        let corner = SIMD2(Float(match.source.x), Float(match.source.y))
        var offset = match.offset
        for _ in 0..<CoarseTuning.maximumIterations {
            guard sampleReference(at: corner + offset) else { return nil }
            let step = hessian.solve(steepestDescentResidual())
            offset -= step
            guard chebyshevDistance(offset, match.offset) <= CoarseTuning.inlierTolerance else { return nil }
            if (step * step).sum() < CoarseTuning.convergedStep * CoarseTuning.convergedStep { break }
        }
        return offset
    }

    /// Fills the normalised template and its gradients; returns the Gauss–Newton Hessian, or nil
    /// where the patch is flat or an edge (its smaller eigenvalue is tiny).
    private mutating func prepareTemplate(at corner: Corner) -> SymmetricMatrix? {
        let width = size.width
        let norm = template.withUnsafeMutableBufferPointer { template in
            copyPatch(source, width: width, centre: corner, into: template)
            return normalise(template)
        }
        guard norm > 0 else { return nil }
        var hessian = SymmetricMatrix()
        for row in 0..<MatchPatch.side {
            let start = (corner.y + row - MatchPatch.radius) * width + corner.x - MatchPatch.radius
            for column in 0..<MatchPatch.side {
                let pixel = start + column, index = row * MatchPatch.side + column
                let gx = (source[pixel + 1] - source[pixel - 1]) / (2 * norm)
                let gy = (source[pixel + width] - source[pixel - width]) / (2 * norm)
                (gradientX[index], gradientY[index]) = (gx, gy)
                hessian.entries += SIMD3(gx * gx, gx * gy, gy * gy)
            }
        }
        return hessian.isWellConditioned ? hessian : nil
    }

    /// The reference patch centred at `position`, bilinear, normalised. The fraction is the same for
    /// every pixel of the patch, so the four weights are too. False where the patch leaves the
    /// reference or is flat.
    private mutating func sampleReference(at position: SIMD2<Float>) -> Bool {
        let origin = position.rounded(.down) - Float(MatchPatch.radius)
        let fraction = position - position.rounded(.down)
        guard origin.x >= 0, origin.y >= 0, Int(origin.x) + MatchPatch.side < size.width,
            Int(origin.y) + MatchPatch.side < size.height
        else { return false }
        let width = size.width, top = Int(origin.y) * width + Int(origin.x)
        let weights = SIMD4(
            (1 - fraction.x) * (1 - fraction.y), fraction.x * (1 - fraction.y),
            (1 - fraction.x) * fraction.y, fraction.x * fraction.y)
        for row in 0..<MatchPatch.side {
            for column in 0..<MatchPatch.side {
                let pixel = top + row * width + column
                let taps = SIMD4(reference[pixel], reference[pixel + 1], reference[pixel + width], reference[pixel + width + 1])
                warped[row * MatchPatch.side + column] = (taps * weights).sum()
            }
        }
        return warped.withUnsafeMutableBufferPointer { normalise($0) } > 0
    }

    /// Σ ∇template · (warped − template): the right-hand side of the Gauss–Newton step.
    private func steepestDescentResidual() -> SIMD2<Float> {
        var sum = SIMD2<Float>(repeating: 0)
        for index in 0..<warped.count {
            sum += SIMD2(gradientX[index], gradientY[index]) * (warped[index] - template[index])
        }
        return sum
    }
}

/// A symmetric 2 × 2 matrix: the Gauss–Newton Hessian of a translation.
struct SymmetricMatrix {
    /// xx, xy, yy.
    var entries = SIMD3<Float>(repeating: 0)

    private var determinant: Float { entries.x * entries.z - entries.y * entries.y }

    /// Both eigenvalues comfortably above 0: the patch has texture in every direction.
    /// (det / trace² is about the ratio of the smaller eigenvalue to the larger.)
    var isWellConditioned: Bool {
        let trace = entries.x + entries.z
        return determinant > 0.01 * trace * trace
    }

    /// x with self · x = b (Cramer's rule).
    func solve(_ b: SIMD2<Float>) -> SIMD2<Float> {
        SIMD2(entries.z * b.x - entries.y * b.y, entries.x * b.y - entries.y * b.x) / determinant
    }
}
