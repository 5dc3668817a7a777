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

    public func fuse(_ inputs: consuming FusionInputs) -> Plane {
        var fused = inputs.source.plane
        addDetail(of: inputs, to: &fused)
        return fused
    }

    /// Adds `(1 − M_occ)·F(Ỹ_ref − Y_src)` to `plane`: what this fusion adds to `Y_src`. The
    /// difference, its band and `M_occ` are made a row at a time, never as whole planes; a
    /// `Y_src` made as it is read is made a band of rows (and the blur's reach) at a time.
    public func addDetail(of inputs: FusionInputs, to plane: inout Plane) {
        let size = plane.size, reach = reach
        let bandRows = inputs.source.isMadeAsRead ? Self.madeSourceBand : max(size.height, 1)
        plane.pixels.withUnsafeMutableBufferPointer { output in
            inputs.reference.pixels.withUnsafeBufferPointer { reference in
                for start in stride(from: 0, to: size.height, by: bandRows) {
                    let rows = start..<min(start + bandRows, size.height)
                    let read = max(rows.lowerBound - reach, 0)..<min(rows.upperBound + reach, size.height)
                    inputs.source.withRegion(rows: read, columns: 0..<size.width) { source in
                        addDetail(
                            source: source, reference: PlaneRegion(reference.baseAddress!, rowLength: size.width),
                            occlusion: inputs.occlusion, size: size, columns: 0..<size.width, rows: rows,
                            to: output.baseAddress! + start * size.width, rowLength: size.width, startingAtZero: false)
                    }
                }
            }
        }
    }

    /// Rows of a `Y_src` made as it is read that are made together (with the blur's reach).
    static let madeSourceBand = 256

    /// How far from a pixel `addDetail` reads the planes: the band split's blur.
    package var reach: Int { blurReach(sigma: bandSplitSigma) }

    /// `addDetail` for the pixels `columns × rows` of planes of `size`, added to `output` (their
    /// rows `rowLength` apart, from the rectangle's corner), or to 0 when `startingAtZero` (what
    /// `output` holds is then never read, so it need not be cleared): the same sums, to the bit. It reads
    /// `source` and `reference` only within `reach` of the rectangle (which is all their regions
    /// must hold), so that the network can run it tile by tile while other tiles' outputs are
    /// written over `Ỹ_ref`. Edge rows and columns are repeated only at the planes' edges, as for
    /// the whole plane: where the window is cut inside them, the blur's repeated samples reach no
    /// pixel of the rectangle.
    package func addDetail(
        source: PlaneRegion, reference: PlaneRegion, occlusion: EnlargedMask, size: Size,
        columns: Range<Int>, rows: Range<Int>, to output: UnsafeMutablePointer<Float>, rowLength: Int,
        startingAtZero: Bool
    ) {
        let reach = reach, width = size.width
        let window = (
            columns: max(columns.lowerBound - reach, 0)..<min(columns.upperBound + reach, width),
            rows: max(rows.lowerBound - reach, 0)..<min(rows.upperBound + reach, size.height)
        )
        let output = UncheckedSendable(output)
        forEachBlurredRow(
            width: window.columns.count, height: window.rows.count, sigma: bandSplitSigma,
            fill: { y, row in
                let (frameY, first) = (window.rows.lowerBound + y, window.columns.lowerBound)
                let (reference, source) = (reference.row(frameY, from: first), source.row(frameY, from: first))
                for x in 0..<window.columns.count { row[x] = reference[x] - source[x] }
            },
            use: { y, difference, blurred, occ in
                let frameY = window.rows.lowerBound + y
                guard rows.contains(frameY) else { return }
                occlusion.row(frameY, columns: columns, into: occ)
                let outputRow = output.value + (frameY - rows.lowerBound) * rowLength
                let skipped = columns.lowerBound - window.columns.lowerBound
                for x in 0..<columns.count {
                    let detail = (1 - occ[x]) * (difference[skipped + x] - blurred[skipped + x])
                    outputRow[x] = (startingAtZero ? 0 : outputRow[x]) + detail
                }
            })
    }
}
