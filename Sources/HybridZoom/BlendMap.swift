/// Step 8's maps: each says, per pixel of the maps' grid, how far T must not be trusted there
/// (0: trust it, 1: do not). `Blend` sums the enabled ones into the blend weight.
///
/// A map is a small value with its own settings, registered by name (`BlendMaps`) so that a
/// configuration can switch each on or off, as libcamera's IPA algorithms are.
public protocol BlendMap: Sendable {
    /// The name a configuration switches the map by, also its name in sidecars and map images.
    static var name: String { get }
    /// The map on `inputs.mapSize`, values in [0, 1].
    func map(_ inputs: BlendInputs) -> Plane
}

extension BlendMap {
    public var name: String { Self.name }
}

/// The maps that exist, by name.
public enum BlendMaps {
    /// Every map with its default settings, all used unless a configuration names fewer: the
    /// paper's four (its defocus map measured, not inferred from depth), then ours, then the
    /// paper's defocus map, which with its γ widened holds T back only far off the focus plane.
    public static let all: [any BlendMap] = [
        DefocusMap(), OcclusionMap(), FlowUncertaintyMap(), RejectionMap(), FlatnessMap(), ParallaxDefocusMap(),
    ]

    public static var names: [String] { all.map(\.name) }

    /// The map called `name` with its default settings, or nil if there is none.
    public static func named(_ name: String) -> (any BlendMap)? {
        all.first { $0.name == name }
    }
}

/// What the maps read: the frames at full resolution, alignment's results on the maps' grid (the
/// flow resolution, about 512 px wide), and what the caller knows of the capture.
public struct BlendInputs: Sendable {
    /// `Y_src`: I_src's luma, full resolution, held or made as it is read.
    public var source: SourceLuma
    /// `Ỹ_ref`: T's luma warped onto I_src's grid and colour-matched, full resolution.
    public var warpedReference: Plane
    /// I_src → T on the maps' grid, in pixels of that grid.
    public var forwardFlow: FlowField
    /// The part of it that T's rotation, scale and translation against W explain (the coarse
    /// similarity): `forwardFlow` minus this, and minus what the lenses' distortion leaves
    /// (`LensResidual`), is parallax.
    public var coarseFlow: FlowField
    /// S(x) of the forward flow, in pixels of the maps' grid.
    public var flowUncertainty: Plane
    /// `M_occ` on the maps' grid.
    public var occlusion: Plane
    /// 1 where the flow leads outside T's frame, on the maps' grid.
    public var outsideReference: Plane
    /// Where T focused, in normalised coordinates of I_src ([0, 1] across and down): EXIF
    /// SubjectArea where the camera records one, else a configured rectangle, else
    /// `BlendInputs.centralRegion`.
    public var autofocusRegion: Rect
    /// σ of W's noise in luma units, per pixel of W's own frame (the gate's `noiseWide`).
    public var wideNoise: Float
    /// σ of T's noise in luma units, per pixel of T's frame, which is I_src's (the gate's `noiseTele`).
    public var teleNoise: Float
    /// r: T's focal length over W's; I_src is W enlarged r times.
    public var zoomRatio: Double

    public init(
        source: SourceLuma, warpedReference: Plane, forwardFlow: FlowField, coarseFlow: FlowField? = nil, flowUncertainty: Plane,
        occlusion: Plane, outsideReference: Plane, autofocusRegion: Rect = BlendInputs.centralRegion,
        wideNoise: Float, teleNoise: Float = 0, zoomRatio: Double
    ) {
        precondition(source.size == warpedReference.size, "Y_src \(source.size) and Ỹ_ref \(warpedReference.size) differ in size")
        let grid = forwardFlow.size
        precondition(
            [flowUncertainty.size, occlusion.size, outsideReference.size].allSatisfy { $0 == grid },
            "the maps' inputs must all be on the flow's grid \(grid)")
        precondition(zoomRatio >= 1, "zoom ratio \(zoomRatio) below 1")
        self.source = source
        self.warpedReference = warpedReference
        self.forwardFlow = forwardFlow
        self.coarseFlow = coarseFlow ?? FlowField(size: forwardFlow.size)
        self.flowUncertainty = flowUncertainty
        self.occlusion = occlusion
        self.outsideReference = outsideReference
        self.autofocusRegion = autofocusRegion
        self.wideNoise = wideNoise
        self.teleNoise = teleNoise
        self.zoomRatio = zoomRatio
    }

    /// The same with `Y_src` held.
    public init(
        source: Plane, warpedReference: Plane, forwardFlow: FlowField, coarseFlow: FlowField? = nil, flowUncertainty: Plane,
        occlusion: Plane, outsideReference: Plane, autofocusRegion: Rect = BlendInputs.centralRegion,
        wideNoise: Float, teleNoise: Float = 0, zoomRatio: Double
    ) {
        self.init(
            source: SourceLuma(source), warpedReference: warpedReference, forwardFlow: forwardFlow, coarseFlow: coarseFlow,
            flowUncertainty: flowUncertainty, occlusion: occlusion, outsideReference: outsideReference,
            autofocusRegion: autofocusRegion, wideNoise: wideNoise, teleNoise: teleNoise, zoomRatio: zoomRatio)
    }

    /// The inputs from `Alignment.align`'s result and I_src's luma.
    public init(
        source: Plane, alignment: Alignment, autofocusRegion: Rect = BlendInputs.centralRegion,
        wideNoise: Float, teleNoise: Float = 0, zoomRatio: Double
    ) {
        self.init(
            source: SourceLuma(source), alignment: alignment, autofocusRegion: autofocusRegion, wideNoise: wideNoise,
            teleNoise: teleNoise, zoomRatio: zoomRatio)
    }

    /// The same with I_src's luma held or made as it is read.
    public init(
        source: SourceLuma, alignment: Alignment, autofocusRegion: Rect = BlendInputs.centralRegion,
        wideNoise: Float, teleNoise: Float = 0, zoomRatio: Double
    ) {
        guard let warpedReference = alignment.warpedReference else {
            preconditionFailure("this alignment's Ỹ_ref was handed to fusion, which wrote over it")
        }
        self.init(
            source: source, warpedReference: warpedReference, forwardFlow: alignment.forward.flow,
            coarseFlow: alignment.similarityFlow,
            flowUncertainty: alignment.forward.uncertainty, occlusion: alignment.occlusion,
            outsideReference: alignment.outsideReference, autofocusRegion: autofocusRegion,
            wideNoise: wideNoise, teleNoise: teleNoise, zoomRatio: zoomRatio)
    }

    /// The maps' grid.
    public var mapSize: Size { forwardFlow.size }

    /// The autofocus region when nothing better is known: the middle tenth of the frame across
    /// and down, where cameras focus by default. (On the simulated captures, which focus on the
    /// centre's depth, a fifth let other depths win the k-means more often.)
    public static let centralRegion = Rect(x: 0.45, y: 0.45, width: 0.1, height: 0.1)

    /// Full-resolution pixels per pixel of the maps' grid: flow lengths times this are in the
    /// pixels the maps' flow constants are in.
    var fullResolutionScale: Float { Float(source.size.width) / Float(mapSize.width) }
}

/// The blending stage's constants, in one place, with how each was chosen.
///
/// Chosen on the 20-capture evaluation set (simulated, r = 2, frames 454–1536 px wide, ground
/// truth for occlusion, defocus and flow) against the bar: blend weight ≤ 0.1 on ≥ 90 % of the
/// truly occluded, defocused and misaligned (flow error > 1 px) pixels, ≥ 0.8 on ≥ 80 % of the
/// clean textured ones (local deviation of the clean image ≥ 0.02). Keeping the clean side at
/// 80 % is what makes fusion worth running, so each constant is the one that flags the most
/// while it holds. A grid over γ, σ_f, s_max, ε₀, smoothing and feather found no setting that
/// flags more than 44 % of the flagged pixels with ≥ 80 % clean; the figures beside each
/// constant vary it alone from these defaults, as "flagged share / clean share" (with the
/// defaults: occluded 0.995, defocused 0.185, misaligned 0.667, all flagged 0.421, clean
/// 0.818). `BlendOnSimulationTests` keeps a relaxed bar on small captures.
///
/// Those sweeps ran on the earlier flow, whose errors were wider. With the current flow and the
/// network trained before it (`make eval`, occlusion s = 0.75, noise floor 0.25; network + blend:
/// misaligned ≤ 0.1 / clean textured ≥ 0.8 / the network's clean-capture gain lost) the defaults
/// give 0.922/0.886/0.26 dB, and one at a time: s_max 9, 3: 0.888/0.895/0.22, 0.943/0.874/0.34 dB;
/// γ 8, 2: 0.886/0.937/0.14 dB (defocused only 0.728), 0.972/0.774/0.96 dB; noise floor 0.2, 0.3:
/// 0.929/0.880/0.32 dB, 0.915/0.891/0.21 dB; ε₀ 2, 4·10⁻³: 0.923/0.878/0.39 dB, 0.921/0.889/0.22
/// dB. The defaults stayed: each alternative failed a bar or bought one share with another. The
/// network retrained on the current flow then moved the noise floor to 0.3 (`mapNoiseFloor`).
///
/// Flow lengths are in full-resolution pixels of I_src: defocus blur and parallax, both in
/// pixels, scale together with the resolution (their ratio is T's aperture over the baseline),
/// and a misalignment shows in the output by its length in the output's pixels.
public enum BlendTuning {
    // MARK: Defocus

    /// The defocus map's band: detail finer than 1.5 W pixels (σ of the Gaussian it is the
    /// residual of), which W resolves and a sharp T, shrunk to W's scale, holds at least as well.
    public static let defocusBand = 1.5
    /// σ of the window its energies are averaged over, W pixels.
    public static let defocusWindow = 4.0
    /// T's contrast in the band over W's at and below which T counts as blurred, and at and above
    /// which as sharp. On the training split (`hzsr tune … --param defocus.sharp-above`), 1, 1.1,
    /// 1.2, 1.25, 1.3 flag 80.9, 86.1, 89.9, 91.4, 92.6 % of the truly defocused pixels and 3.2,
    /// 4.9, 8.1, 10.4, 12.9 % of the in-focus ones, at the same gain: 1.2, the most that stays
    /// under 10 % (a sharp T reaches ρ above 1: shrunk by r it holds W's band and more).
    public static let defocusBlurredBelow: Float = 0.35
    public static let defocusSharpAbove: Float = 1.2
    /// The quantile of ρ that is lifted to ρ₁ when the cameras' processing has lowered ρ all over
    /// (W sharpened harder, T denoised harder), and the most it is lifted by. On the training
    /// split (tune-train; network + blend median gain, clean textured pixels kept, in-focus /
    /// defocused pixels flagged): without it +2.63 dB, 70.8 %, 8.1 / 89.9 %; with 0.75 +2.66 dB,
    /// 78.6 %, 5.1 / 89.9 %. In a trial beside another parallax map the median (0.5) flagged
    /// only 79 % of the defocused pixels, and a 0.9 quantile that also lowered ρ 44 % of the
    /// in-focus ones. The gain's bound, 2, is not swept.
    public static let defocusSharpQuantile = 0.75
    public static let defocusMaximumProcessingGain: Float = 2
    /// W's band energy over its noise's below which there is nothing to compare.
    public static let defocusTextureAboveNoise: Float = 3

    // MARK: Defocus from parallax (the paper's map)

    /// k of the k-means on the autofocus region's flow: the focus plane, and room for a
    /// foreground and a background object overlapping the region. k = 1 (the mean), 2, 3, 5:
    /// 0.420, 0.401, 0.421, 0.400 flagged at the same 0.82 clean.
    public static let defocusClusters = 3
    /// γ, px²: the map is ½ at a flow 4 px away from the focus plane's. Beside the measured
    /// defocus map it only has to catch what that one cannot: depths so far off the focus
    /// plane that the flow is not to be trusted there either (a stereo pair's repeating
    /// backdrop, matched a period off). On the training split (network + blend; gain, tiles
    /// not worse pooled and in the worst capture), without it: +2.65 dB, 99.1 %, 96.2 %; with
    /// γ = 4, 16, 64: +1.68, 99.8, 99.0; +2.63, 99.5, 98.1; +2.65, 99.1, 96.2. (At 4, its first
    /// value, it read lens distortion and any smooth residual of the flow as depth. Measured
    /// before `LensResidual` took those out; not chosen again since.)
    public static let defocusGamma: Float = 16
    /// σ_f, px²: 0.25, 1, 4: 0.42/0.82, 0.42/0.80, 0.44/0.30 (a soft sigmoid lifts every pixel
    /// a little). The blend's smoothing softens the edge in space anyway.
    public static let defocusSoftness: Float = 0.25
    /// T's mean detail in the autofocus region, over its mean over the frame, below which the
    /// region is flat (a sky, a wall, a mover's flat side), its flow interpolated, and the
    /// frame's detail picks the focus plane instead. On the training split (network + blend;
    /// median and mean gain on train-validate-b, mean on tune-train and train-validate): the
    /// region always +2.23, +2.37, +2.85, +2.85 dB; below 0.1: +2.75, +2.74, +2.85, +2.83;
    /// 0.25: +2.74, +2.74, +2.85, +2.83; 1: +2.82, +3.00, +2.89, +2.82. At 1 the aloe stereo
    /// pair of `make real` (centre at 0.25 of its frame's detail, a strongly textured backdrop
    /// matched a period off) lost 0.15 dB to W's digital zoom with 16 % of its tiles worse: its
    /// backdrop won the frame's k-means. 0.1 departs from the paper's region only where it is
    /// nearly flat, which no real pair's is.
    public static let defocusFlatRegion: Float = 0.1
    /// k-means clusters whose centres lie this close, in full-resolution pixels, are one depth:
    /// the flow's own noise, which splits an evenly spread focus plane as readily as a compact
    /// object stays whole. √γ (4 px), the map's own threshold, merged a defocused layer into the
    /// focus plane on captures of the training photos (3 % of the defocused pixels went
    /// unflagged); 1 and 2 px scored alike.
    public static let defocusSameDepth: Float = 1

    // MARK: Flow uncertainty

    /// s_max, px (1.5 px of the 512-px flow at 1536 px). With γ = 4, s_max = 9, 4.5, 2:
    /// misaligned 0.76, 0.79, 0.82, clean textured 0.91, 0.90, 0.88.
    public static let uncertaintyLimit: Float = 4.5

    // MARK: Rejection

    /// The widest plane the rejection map works on (W's own resolution, I_src shrunk by r, up to
    /// this): finer would add cost at 12 MP and no detail W has.
    public static let rejectionMaxWidth = 1024
    /// W's lens blur beyond its pixels, σ in W pixels, applied to Ỹ_ref. 0, 0.6, 1.2: 0.41/0.46,
    /// 0.42/0.82, 0.47/0.35; on clean textured pixels the median ‖P_δ‖² was 2.1·10⁻⁴, 4.4·10⁻⁵
    /// and 2.9·10⁻⁴: 0.6 is what makes T look like W.
    public static let wideLensBlur = 0.6
    /// σ of the Gaussian window over which patch differences are taken, working pixels (about an
    /// 8 × 8 patch of I_src at r = 2). 1, 1.5, 2, 3: all within a point (0.41–0.42/0.82).
    public static let rejectionWindow = 1.5
    /// ε₀, luma². Clean textured pixels have ‖P_δ‖² of 4·10⁻⁵ (median) to 2·10⁻⁴ (90th
    /// percentile) from sub-pixel flow errors on strong texture, so ε₀ must be well above W's
    /// noise (σ² ≈ 3·10⁻⁶ at ISO 100). ε₀ = 1, 2, 3, 4, 6·10⁻³: 0.50/0.64, 0.45/0.77, 0.42/0.82,
    /// 0.41/0.84, 0.39/0.86; without the map 0.37/0.88. It is the map that catches defocus and
    /// misalignment where they show: on textured flagged pixels 0.34 with it, 0.24 without.
    /// Normalising ‖P_δ‖² by the local contrast separated flat defocused pixels better but
    /// textured ones worse (ROC AUC 0.81 against 0.83), so the paper's form stays.
    public static let rejectionTolerance: Float = 3e-3

    // MARK: Blend

    /// σ of the Gaussian that smooths M_blend, pixels of the maps' grid; the weight is first
    /// eroded by 1.28 σ so that smoothing cannot lift a rejected pixel above 0.1. σ = 0 (neither),
    /// 1, 1.5, 2: 0.37/0.87 (occluded only 0.982), 0.42/0.82, 0.42/0.82, 0.44/0.79.
    public static let smoothingSigma = 1.0
    /// Map values up to this are the maps' own noise (a round trip off by half a pixel, a flow
    /// a little unsure) and hold nothing back; above it a map counts in full, rescaled so that 1
    /// stays 1. Without it every map's small values added up over clean texture: on clean
    /// captures blending cost classical fusion 0.48 dB of its gain. With 0.2, 0.25, 0.3 it costs
    /// the network 0.30, 0.26, 0.23 dB (classical fusion 0.08, 0.07, 0.06), with occluded shares
    /// 0.996, 0.995, 0.993 and misaligned 0.786, 0.782, 0.777 (the earlier flow and network).
    /// With the current flow and the network retrained on it, which gains more on clean
    /// captures, 0.25 cost it 0.302 dB, just over the 0.3 dB bar; 0.3 costs 0.256 dB (occluded
    /// 0.992, misaligned 0.915, clean textured 0.891). Raising ε₀ instead (4, 5·10⁻³: 0.26,
    /// 0.24 dB) did as well on the evaluation set but let a strongly misaligned patch through
    /// (`BlendMapTests`).
    public static let mapNoiseFloor: Float = 0.3
    /// The ramp from 0 at the border of T's view to full weight, as a fraction of the frame
    /// width (15 px at 1536 px, 40 at 12 MP). `Blend.paste` adds only what fusion changed, so
    /// the ramp needs only to be smooth, not wide. 0.005, 0.01, 0.02, 0.03: clean 0.825, 0.818,
    /// 0.798, 0.774.
    public static let featherWidth = 0.01

    // MARK: Flatness

    /// The band of T that fusion adds: finer than a Gaussian of 1.5 W pixels, as classical
    /// fusion's band split.
    public static let flatnessBand = 1.5
    /// ρ (the band's local energy over T's noise energy in it) up to 1.5 is noise alone; from 3 on,
    /// detail.
    public static let flatBelow: Float = 1.5
    public static let detailAbove: Float = 3
    /// T's noise below a tenth of a code value (σ in luma) is none: nothing to keep out.
    public static let flatnessNoiseFloor: Float = 0.0004
}
