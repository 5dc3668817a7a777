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

    /// Adds `(1 − M_occ)·F(Ỹ_ref − Y_src)` to `plane`: what this fusion adds to `Y_src`. The
    /// difference, its band and `M_occ` are made a row at a time, never as whole planes.
    public func addDetail(of inputs: FusionInputs, to plane: inout Plane) {
        let (width, height) = (plane.width, plane.height)
        plane.pixels.withUnsafeMutableBufferPointer { output in
            inputs.reference.pixels.withUnsafeBufferPointer { reference in
                inputs.source.pixels.withUnsafeBufferPointer { source in
                    let output = UncheckedSendable(output)
                    forEachBlurredRow(
                        width: width, height: height, sigma: bandSplitSigma,
                        fill: { y, row in
                            for x in 0..<width { row[x] = reference[y * width + x] - source[y * width + x] }
                        },
                        use: { y, difference, blurred, occ in
                            inputs.occlusion.row(y, columns: 0..<width, into: occ)
                            for x in 0..<width {
                                output.value[y * width + x] += (1 - occ[x]) * (difference[x] - blurred[x])
                            }
                        })
                }
            }
        }
    }
}
