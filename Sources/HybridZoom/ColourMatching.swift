/// Step 4: T's luma mean and variance made W's, measured where both see the same scene, so that
/// flow and fusion compare like with like. Luma alone: it is all that fusion takes from T.
public struct ColourMatch: Sendable, Equatable {
    /// matched = (value − referenceMean) · gain + sourceMean.
    public var gain: Float
    public var referenceMean: Float
    public var sourceMean: Float

    public static let identity = ColourMatch(gain: 1, referenceMean: 0, sourceMean: 0)

    /// What `apply` adds after the gain: matched = value · gain + offset.
    public var offset: Float { sourceMean - referenceMean * gain }

    /// Statistics of `source` (`Y_src`) and of `reference` (T's luma) over their overlap, a
    /// point x of the source lying at `mapping(x)` in T. About 65 000 samples are plenty for a
    /// mean and a variance, so large planes are read on a sparse lattice.
    public static func estimate(source: Plane, reference: Plane, mapping: Homography) -> ColourMatch {
        estimate(source: source, reading: reference, mapping: mapping)
    }

    /// The same with T as decoded, in 8 bits, or in floats, and `Y_src` held or made as it is read.
    static func estimate<S: ReadablePlane, P: ReadablePlane>(source: S, reading reference: P, mapping: Homography) -> ColourMatch {
        let paired = source.withSourceRows { source in reference.withSourceRows { pairedMoments(source, $0, mapping) } }
        return ColourMatch(
            gain: paired.referenceDeviation > 1e-4 ? paired.sourceDeviation / paired.referenceDeviation : 1,
            referenceMean: paired.referenceMean, sourceMean: paired.sourceMean)
    }

    /// Takes the plane, so that a plane nothing else holds is matched where it lies, not copied.
    public func apply(_ plane: consuming Plane) -> Plane {
        var result = consume plane
        let (width, height) = (result.width, result.height)
        result.pixels.withUnsafeMutableBufferPointer { pixels in
            let pixels = UncheckedSendable(pixels)
            parallelChunks(height, itemCost: width) { rows in
                apply(to: pixels.value.baseAddress! + rows.lowerBound * width, count: rows.count * width)
            }
        }
        return result
    }

    /// `count` values matched where they lie.
    func apply(to values: UnsafeMutablePointer<Float>, count: Int) {
        let (gain, offset) = (gain, offset)
        for i in 0..<count { values[i] = values[i] * gain + offset }
    }
}

private struct PairedMoments {
    var sourceMean: Float = 0, referenceMean: Float = 0
    var sourceDeviation: Float = 0, referenceDeviation: Float = 0
}

/// Means and standard deviations of `source` at x and `reference` at the nearest pixel to
/// `mapping(x)`, over the x where both exist.
private func pairedMoments(_ source: SourceRows, _ reference: SourceRows, _ mapping: Homography) -> PairedMoments {
    let (width, height) = (source.size.width, source.size.height)
    let step = max(1, Int((Double(width * height) / 65_536).squareRoot()))
    var sums = SIMD4<Double>.zero, count = 0.0  // source, source², reference, reference²
    withUnsafeTemporaryAllocation(of: Float.self, capacity: source.converts ? width : 1) { scratch in
        for y in stride(from: 0, to: height, by: step) {
            let row = source.row(y, scratch: scratch.baseAddress!)
            for x in stride(from: 0, to: width, by: step) {
                let there = mapping.apply(SIMD2(Double(x) + 0.5, Double(y) + 0.5)).rounded(.down)
                guard there.x >= 0, there.y >= 0, there.x < Double(reference.size.width), there.y < Double(reference.size.height)
                else { continue }
                let s = Double(row[x]), r = Double(reference.at(Int(there.x), Int(there.y)))
                sums += SIMD4(s, s * s, r, r * r)
                count += 1
            }
        }
    }
    guard count > 0 else { return PairedMoments() }
    let mean = sums / count
    return PairedMoments(
        sourceMean: Float(mean[0]), referenceMean: Float(mean[2]),
        sourceDeviation: Float(max(mean[1] - mean[0] * mean[0], 0).squareRoot()),
        referenceDeviation: Float(max(mean[3] - mean[2] * mean[2], 0).squareRoot()))
}
