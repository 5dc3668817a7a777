/// Step 7 without a network (`fusion.method: classical`): two-band detail transfer, a one-level
/// Laplacian pyramid. W supplies the low band, where it is right about brightness and colour but
/// has nothing finer than its optics and `r`× upsampling let through; T supplies the high band,
/// where it has the detail. `M_occ` fades T's band out where T must not be used:
///
///     Y = G(Y_src) + (1 − M_occ)·(Ỹ_ref − G(Ỹ_ref)) + M_occ·(Y_src − G(Y_src))
///
/// It is the baseline the network must beat and the path for machines with no model.
public struct ClassicalFusion: Fusion {
    /// σ of the Gaussian G that splits the bands, in `I_src` pixels: W's resolution ends about
    /// `r` times coarser than T's, so this grows with the zoom ratio (`FusionSettings`).
    public var bandSplitSigma: Double

    public init(bandSplitSigma: Double) {
        self.bandSplitSigma = bandSplitSigma
    }

    public func fuse(_ inputs: FusionInputs) -> Plane {
        let sourceLow = gaussianBlur(inputs.source, sigma: bandSplitSigma)
        let referenceLow = gaussianBlur(inputs.reference, sigma: bandSplitSigma)
        var fused = Plane(width: inputs.source.width, height: inputs.source.height)
        fused.pixels.withUnsafeMutableBufferPointer { output in
            withBuffers(inputs.source, sourceLow, inputs.reference, referenceLow, inputs.occlusion) { src, srcLow, ref, refLow, occ in
                let output = UncheckedSendable(output)
                parallelChunks(output.value.count, itemCost: 1) { range in
                    for i in range {
                        let trust = 1 - occ[i]
                        let detail = trust * (ref[i] - refLow[i]) + occ[i] * (src[i] - srcLow[i])
                        output.value[i] = srcLow[i] + detail
                    }
                }
            }
        }
        return fused
    }
}

/// Five planes' samples at once, for loops that combine them pixel by pixel.
func withBuffers<Result>(
    _ a: Plane, _ b: Plane, _ c: Plane, _ d: Plane, _ e: Plane,
    _ body: (
        UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>,
        UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>
    ) -> Result
) -> Result {
    a.pixels.withUnsafeBufferPointer { a in
        b.pixels.withUnsafeBufferPointer { b in
            c.pixels.withUnsafeBufferPointer { c in
                d.pixels.withUnsafeBufferPointer { d in
                    e.pixels.withUnsafeBufferPointer { e in body(a, b, c, d, e) }
                }
            }
        }
    }
}
