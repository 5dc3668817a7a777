/// Step 4: T's per-channel mean and variance made W's, measured where both see the same scene,
/// so that flow and fusion compare like with like.
public struct ColourMatch: Sendable, Equatable {
    /// Per channel (Y, Cb, Cr): matched = (value − referenceMean) · gain + sourceMean.
    public var gain: SIMD3<Float>
    public var referenceMean: SIMD3<Float>
    public var sourceMean: SIMD3<Float>

    public static let identity = ColourMatch(gain: .one, referenceMean: .zero, sourceMean: .zero)

    /// Statistics of `source` (on the `I_src` grid) and of `reference` (T) over their overlap, T
    /// being displaced by `translation` (in luma pixels). About 65 000 samples per channel
    /// are plenty for a mean and a variance, so large planes are read on a sparse lattice.
    public static func estimate(source: YCbCrImage, reference: YCbCrImage, translation: SIMD2<Double>) -> ColourMatch {
        let luma = moments(source.y, reference.y, translation)
        let scale = source.chromaScale
        let chromaShift = translation * SIMD2(scale.x, scale.y)
        let cb = moments(source.cb, reference.cb, chromaShift), cr = moments(source.cr, reference.cr, chromaShift)
        func gain(_ m: PairedMoments) -> Float { m.referenceDeviation > 1e-4 ? m.sourceDeviation / m.referenceDeviation : 1 }
        return ColourMatch(
            gain: SIMD3(gain(luma), gain(cb), gain(cr)),
            referenceMean: SIMD3(luma.referenceMean, cb.referenceMean, cr.referenceMean),
            sourceMean: SIMD3(luma.sourceMean, cb.sourceMean, cr.sourceMean))
    }

    public func apply(_ plane: Plane, channel: Int) -> Plane {
        var result = plane
        let gain = gain[channel], offset = sourceMean[channel] - referenceMean[channel] * gain
        result.pixels.withUnsafeMutableBufferPointer { pixels in
            let pixels = UncheckedSendable(pixels)
            parallelChunks(plane.height, itemCost: plane.width) { rows in
                for i in rows.lowerBound * plane.width..<rows.upperBound * plane.width {
                    pixels.value[i] = pixels.value[i] * gain + offset
                }
            }
        }
        return result
    }
}

private struct PairedMoments {
    var sourceMean: Float = 0, referenceMean: Float = 0
    var sourceDeviation: Float = 0, referenceDeviation: Float = 0
}

/// Means and standard deviations of `source` at x and `reference` at x + shift, over the x
/// where both exist.
private func moments(_ source: Plane, _ reference: Plane, _ shift: SIMD2<Double>) -> PairedMoments {
    let dx = Int(shift.x.rounded()), dy = Int(shift.y.rounded())
    let xs = max(0, -dx)..<min(source.width, reference.width - dx), ys = max(0, -dy)..<min(source.height, reference.height - dy)
    guard !xs.isEmpty, !ys.isEmpty else { return PairedMoments() }
    let step = max(1, Int((Double(xs.count * ys.count) / 65_536).squareRoot()))
    var sums = SIMD4<Double>.zero, count = 0.0  // source, source², reference, reference²
    for y in stride(from: ys.lowerBound, to: ys.upperBound, by: step) {
        for x in stride(from: xs.lowerBound, to: xs.upperBound, by: step) {
            let s = Double(source[x, y]), r = Double(reference[x + dx, y + dy])
            sums += SIMD4(s, s * s, r, r * r)
            count += 1
        }
    }
    let mean = sums / count
    return PairedMoments(
        sourceMean: Float(mean[0]), referenceMean: Float(mean[2]),
        sourceDeviation: Float(max(mean[1] - mean[0] * mean[0], 0).squareRoot()),
        referenceDeviation: Float(max(mean[3] - mean[2] * mean[2], 0).squareRoot()))
}
