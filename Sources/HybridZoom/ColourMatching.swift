/// Step 4: T's per-channel mean and variance made W's, measured where both see the same scene,
/// so that flow and fusion compare like with like.
public struct ColourMatch: Sendable, Equatable {
    /// Per channel (Y, Cb, Cr): matched = (value − referenceMean) · gain + sourceMean.
    public var gain: SIMD3<Float>
    public var referenceMean: SIMD3<Float>
    public var sourceMean: SIMD3<Float>

    public static let identity = ColourMatch(gain: .one, referenceMean: .zero, sourceMean: .zero)

    /// Statistics of `source` (on the `I_src` grid) and of `reference` (T) over their overlap, a
    /// point x of the source lying at `mapping(x)` in T (in luma pixels). About 65 000 samples per
    /// channel are plenty for a mean and a variance, so large planes are read on a sparse lattice.
    public static func estimate(source: YCbCrImage, reference: YCbCrImage, mapping: Homography) -> ColourMatch {
        let luma = moments(source.y, reference.y, mapping)
        let scale = source.chromaScale
        let chromaMapping = mapping.scaled(x: scale.x, y: scale.y)
        let cb = moments(source.cb, reference.cb, chromaMapping), cr = moments(source.cr, reference.cr, chromaMapping)
        func gain(_ m: PairedMoments) -> Float { m.referenceDeviation > 1e-4 ? m.sourceDeviation / m.referenceDeviation : 1 }
        return ColourMatch(
            gain: SIMD3(gain(luma), gain(cb), gain(cr)),
            referenceMean: SIMD3(luma.referenceMean, cb.referenceMean, cr.referenceMean),
            sourceMean: SIMD3(luma.sourceMean, cb.sourceMean, cr.sourceMean))
    }

    /// Takes the plane, so that a plane nothing else holds is matched where it lies, not copied.
    public func apply(_ plane: consuming Plane, channel: Int) -> Plane {
        var result = consume plane
        let gain = gain[channel], offset = sourceMean[channel] - referenceMean[channel] * gain
        let (width, height) = (result.width, result.height)
        result.pixels.withUnsafeMutableBufferPointer { pixels in
            let pixels = UncheckedSendable(pixels)
            parallelChunks(height, itemCost: width) { rows in
                for i in rows.lowerBound * width..<rows.upperBound * width {
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

/// Means and standard deviations of `source` at x and `reference` at the nearest pixel to
/// `mapping(x)`, over the x where both exist.
private func moments(_ source: Plane, _ reference: Plane, _ mapping: Homography) -> PairedMoments {
    let step = max(1, Int((Double(source.width * source.height) / 65_536).squareRoot()))
    var sums = SIMD4<Double>.zero, count = 0.0  // source, source², reference, reference²
    for y in stride(from: 0, to: source.height, by: step) {
        for x in stride(from: 0, to: source.width, by: step) {
            let there = mapping.apply(SIMD2(Double(x) + 0.5, Double(y) + 0.5)).rounded(.down)
            guard there.x >= 0, there.y >= 0, there.x < Double(reference.width), there.y < Double(reference.height) else { continue }
            let s = Double(source[x, y]), r = Double(reference[Int(there.x), Int(there.y)])
            sums += SIMD4(s, s * s, r, r * r)
            count += 1
        }
    }
    guard count > 0 else { return PairedMoments() }
    let mean = sums / count
    return PairedMoments(
        sourceMean: Float(mean[0]), referenceMean: Float(mean[2]),
        sourceDeviation: Float(max(mean[1] - mean[0] * mean[0], 0).squareRoot()),
        referenceDeviation: Float(max(mean[3] - mean[2] * mean[2], 0).squareRoot()))
}
