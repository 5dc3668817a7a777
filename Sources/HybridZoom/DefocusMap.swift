/// Step 8, defocus: 1 where T is blurrier than W, measured rather than inferred. Both lumas are
/// taken to W's own scale (`Y_src` shrunk by r is W; `Ỹ_ref` shrunk by r is what a sharp T
/// would show there, at least as crisp as W), and their fine bands compared: ρ is T's local
/// contrast in the band over W's, each less its noise and over its local brightness (so T's
/// darker corners and its different gain do not count). `M = clamp((ρ₁ − ρ) / (ρ₁ − ρ₀), 0, 1)`,
/// and 0 where W itself has no texture above its noise in the band (nothing to compare; the
/// flatness map looks after T's noise there). ρ is first corrected for the two cameras' different
/// processing (`processingGain`), which lowers it everywhere, not only off the focus plane.
///
/// The paper infers defocus from depth (`ParallaxDefocusMap`): parallax far from the focus
/// plane's. On a real rig the flow also holds what no global model takes out (lens distortion
/// moves the corners by pixels), which that map reads as depth; and a sharp T at another depth
/// (a stopped-down lens, a distant focus) loses nothing there. Blur is what costs the output, so
/// blur is what this map measures. Warping errors do not move it: the energies are local
/// averages, which a pixel's misplacement hardly changes; the rejection map is for those.
public struct DefocusMap: BlendMap {
    public static let name = "defocus"

    /// σ of the Gaussian whose residual is the band, in W's pixels.
    public var bandSigma: Double
    /// σ of the window the band's energy and the brightness are averaged over, W's pixels.
    public var window: Double
    /// ρ at and below which T is blurred (1), and at and above which it is as sharp as W (0).
    public var blurredBelow: Float
    public var sharpAbove: Float
    /// W's band energy must be this many times its noise's for the comparison to count.
    public var textureAboveNoise: Float
    /// The quantile of ρ over the compared pixels taken as T's level where it is in focus (lifted
    /// to ρ₁ when below it), and the most it is lifted by.
    public var sharpQuantile: Double
    public var maximumProcessingGain: Float

    public init(
        bandSigma: Double = BlendTuning.defocusBand, window: Double = BlendTuning.defocusWindow,
        blurredBelow: Float = BlendTuning.defocusBlurredBelow, sharpAbove: Float = BlendTuning.defocusSharpAbove,
        textureAboveNoise: Float = BlendTuning.defocusTextureAboveNoise,
        sharpQuantile: Double = BlendTuning.defocusSharpQuantile,
        maximumProcessingGain: Float = BlendTuning.defocusMaximumProcessingGain
    ) {
        precondition(
            bandSigma > 0 && window > 0 && sharpAbove > blurredBelow && (0...1).contains(sharpQuantile) && maximumProcessingGain >= 1,
            "the defocus map's settings are out of order")
        self.bandSigma = bandSigma
        self.window = window
        self.blurredBelow = blurredBelow
        self.sharpAbove = sharpAbove
        self.textureAboveNoise = textureAboveNoise
        self.sharpQuantile = sharpQuantile
        self.maximumProcessingGain = maximumProcessingGain
    }

    public func map(_ inputs: BlendInputs) -> Plane {
        let source = inputs.source, r = inputs.zoomRatio
        let small = Size(
            width: max(1, Int((Double(source.size.width) / r).rounded())), height: max(1, Int((Double(source.size.height) / r).rounded())))
        // T shrunk by r averages r² of its pixels: its noise falls by r.
        let grid = inputs.mapSize
        let (wide, tele) = (
            LocalContrast(
                resample(source, from: source.size.bounds, to: small), band: bandSigma, window: window, grid: grid,
                gateNoise: inputs.wideNoise),
            LocalContrast(
                resample(inputs.warpedReference, from: source.size.bounds, to: small), band: bandSigma, window: window, grid: grid,
                gateNoise: inputs.teleNoise / Float(r))
        )
        var map = Plane(width: grid.width, height: grid.height)
        let (low, high, texture) = (blurredBelow, sharpAbove, textureAboveNoise)
        let compared = map.pixels.indices.filter { wide.energy.pixels[$0] > texture * wide.noiseEnergy }
        let rho = compared.map { tele.contrast(at: $0) / wide.contrast(at: $0) }
        let gain = processingGain(rho)
        for (i, rho) in zip(compared, rho) {
            map.pixels[i] = ((high - gain * rho) / (high - low)).clamped(to: 0...1)
        }
        return map
    }

    /// What lifts the sharpest part of T to ρ₁: a W sharpened harder than T, or a T denoised
    /// harder than W, lowers ρ over the whole frame, in focus or not, while defocus lowers it
    /// only off the focus plane. So where even the quantile `sharpQuantile` of ρ stays below ρ₁,
    /// all ρ are raised by what lifts it there (by at most `maximumProcessingGain`, and never
    /// lowered: a T sharper than W is no reason to flag more).
    private func processingGain(_ rho: [Float]) -> Float {
        guard !rho.isEmpty else { return 1 }
        // A quantile needs no more than some 50 000 of them (a 12 MP frame's grid has 200 000).
        let sample = stride(from: 0, to: rho.count, by: max(1, rho.count / 50_000)).map { Double(rho[$0]) }
        let sharp = Float(quantile(sample, sharpQuantile))
        return (sharpAbove / max(sharp, .leastNormalMagnitude)).clamped(to: 1...maximumProcessingGain)
    }
}

/// A plane's fine band: its local energy, the energy its noise puts there, and the local
/// brightness, each averaged over a Gaussian window, on the maps' grid.
///
/// The noise is the band's deviation on the plane's flattest blocks, or the gate's σ if that
/// is less: in a frame textured all over even the flattest blocks hold texture, and the gate's
/// σ, measured on the finest detail, is then the closer of the two.
private struct LocalContrast {
    var energy: Plane
    var noiseEnergy: Float
    var brightness: Plane

    init(_ plane: Plane, band: Double, window: Double, grid: Size, gateNoise: Float) {
        let noise = min(NoiseEstimate.bandDeviation(of: plane, sigma: band), gateNoise)
        noiseEnergy = noise * noise
        energy = localEnergy(ofBandOf: plane, sigma: band, over: window, onto: grid)
        brightness = averaged(plane, over: window, onto: grid)
    }

    /// The band's deviation less the noise's, over the brightness (squared): contrast, which a
    /// gain or a lens's fall-off does not change.
    func contrast(at i: Int) -> Float {
        let level = max(brightness.pixels[i], 0.02)
        return max(energy.pixels[i] - noiseEnergy, 0) / (level * level)
    }
}
