/// Step 8, flatness: 1 where T has no detail above its own noise, so that fusing would add only
/// T's noise (a wall, a sky, a blurred background): `M_flat = clamp((k₁ − ρ) / (k₁ − k₀), 0, 1)`,
/// ρ being the local energy of Ỹ_ref's fine band over what T's noise puts there, which is
/// measured in the same band on Ỹ_ref's flattest blocks (a camera's noise is not white, so σ
/// alone would not say: this one's σ, measured by the gate on the highest frequencies, can be a
/// third of what the band holds).
///
/// Not one of the paper's maps. On real pairs with a noisy T, the paper's four let T's noise into
/// flat regions, where W's digital zoom is cleaner than anything fusion can make (on the
/// basketball frames of opencv-doc a third of the output's tiles were worse than W's for it).
/// The fine band is the one fusion takes from T (finer than `bandSigma` pixels of I_src), at
/// full resolution, where T's noise lives; the energy is averaged onto the maps' grid.
public struct FlatnessMap: BlendMap {
    public static let name = "flat"

    /// σ of the Gaussian whose residual is the fine band, in W's pixels: detail finer than W's
    /// own, which only T can add.
    public var bandSigma: Double
    /// ρ at and below which T is flat (1), and at and above which it has detail (0).
    public var flatBelow: Float
    public var detailAbove: Float

    public init(
        bandSigma: Double = BlendTuning.flatnessBand, flatBelow: Float = BlendTuning.flatBelow,
        detailAbove: Float = BlendTuning.detailAbove
    ) {
        precondition(bandSigma > 0 && flatBelow >= 0 && detailAbove > flatBelow, "the flatness map's settings are out of order")
        self.bandSigma = bandSigma
        self.flatBelow = flatBelow
        self.detailAbove = detailAbove
    }

    public func map(_ inputs: BlendInputs) -> Plane {
        let reference = inputs.warpedReference, sigma = bandSigma * inputs.zoomRatio
        // Without measurable noise in T (the gate's σ; a rendered or heavily smoothed T) fusing
        // adds none either.
        guard inputs.teleNoise >= BlendTuning.flatnessNoiseFloor else {
            return Plane(width: inputs.mapSize.width, height: inputs.mapSize.height)
        }
        // In a frame textured all over, the flattest blocks hold some texture too, and the
        // least textured parts then count as flat: T adds least there anyway.
        let noise = NoiseEstimate.bandDeviation(of: reference, sigma: sigma)
        // Nor where the band shows none (a frame too small, or too dark or bright, to measure):
        // there is no ratio to take.
        guard noise > 0 else { return Plane(width: inputs.mapSize.width, height: inputs.mapSize.height) }
        let noiseEnergy = noise * noise
        // Averaged over a window wide enough that noise alone gives ρ close to 1 (a few hundred
        // pixels), on the maps' grid: shrinking onto it averages as much of the window as the
        // grid is coarse, the blur there the rest (a tenth of the work at full resolution).
        var energy = localEnergy(ofBandOf: reference, sigma: sigma, over: 2 * sigma, onto: inputs.mapSize)
        let (low, high) = (flatBelow, detailAbove)
        for i in energy.pixels.indices {
            energy.pixels[i] = ((high - energy.pixels[i] / noiseEnergy) / (high - low)).clamped(to: 0...1)
        }
        return energy
    }
}
