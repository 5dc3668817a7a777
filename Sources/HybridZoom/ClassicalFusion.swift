/// Step 7 without a network (`fusion.method: classical`): two-band detail transfer, a one-level
/// Laplacian pyramid. W supplies the low band, where it is right about brightness and colour but
/// has nothing finer than its optics and `r`× upsampling let through; T supplies the high band,
/// where it has the detail. `M_occ` fades T's band out where T must not be used:
///
///     Y = G(Y_src) + (1 − M_occ)·(Ỹ_ref − G(Ỹ_ref)) + M_occ·(Y_src − G(Y_src))
///       = Y_src + (1 − M_occ)·F(Ỹ_ref − Y_src),   F = 1 − G, the fine band
///
/// The second form, from G's linearity, blurs one plane instead of two.
/// It is the baseline the network must beat and the path for machines with no model.
public struct ClassicalFusion: Fusion {
    /// σ of the Gaussian G that splits the bands, in `I_src` pixels: W's resolution ends about
    /// `r` times coarser than T's, so this grows with the zoom ratio (`FusionSettings`).
    public var bandSplitSigma: Double

    public init(bandSplitSigma: Double) {
        self.bandSplitSigma = bandSplitSigma
    }

    public func fuse(_ inputs: FusionInputs) -> Plane {
        var fused = inputs.source
        addDetail(of: inputs, to: &fused)
        return fused
    }

    /// Adds `(1 − M_occ)·F(Ỹ_ref − Y_src)` to `plane`: what this fusion adds to `Y_src`.
    public func addDetail(of inputs: FusionInputs, to plane: inout Plane) {
        let detail = fineBand(inputs.reference - inputs.source, sigma: bandSplitSigma)
        plane.pixels.withUnsafeMutableBufferPointer { output in
            detail.pixels.withUnsafeBufferPointer { detail in
                inputs.occlusion.pixels.withUnsafeBufferPointer { occ in
                    let output = UncheckedSendable(output)
                    parallelChunks(output.value.count, itemCost: 1) { range in
                        for i in range { output.value[i] += (1 - occ[i]) * detail[i] }
                    }
                }
            }
        }
    }
}
