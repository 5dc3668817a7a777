/// Steps 3–6 together: T brought onto the `I_src` grid, with what the later stages need to
/// judge where it can be trusted.
public struct AlignmentSettings: Sendable {
    /// Width of the luma the dense flow runs on (height follows the aspect ratio).
    public var flowWidth = 512
    public var coarse = CoarseAligner()
    public var flow = DenseFlowSettings()
    /// `s` of `M_occ = min(s · ‖forward–backward error‖, 1)`, per pixel of flow resolution.
    /// Chosen on the evaluation set (`make flow`): occlusion F1 0.72 at s = 0.35, 0.73 at 0.5,
    /// 0.75 at 0.75, 0.71 at 1, 0.63 at 1.5; so M_occ reaches ½ at a ⅔-pixel round-trip error.
    /// The blend agrees (`make eval`): misaligned pixels held back 89 %, 92 %, 94 % at s = 0.5,
    /// 0.75, 1, clean texture kept 88.8 %, 88.6 %, 88.3 %.
    public var occlusionScale: Float = 0.75

    public init() {}
}

public struct Alignment: Sendable {
    public var coarse: CoarseAlignment
    public var colour: ColourMatch
    /// `I_src` → T at flow resolution, coarse translation included.
    public var forward: DenseFlowResult
    /// T → `I_src` at flow resolution.
    public var backward: DenseFlowResult
    /// `M_occ` at flow resolution.
    public var occlusion: Plane
    /// The luma pair the flows ran on: `I_src` and T (colour-matched, moved by the coarse
    /// translation) at flow resolution, and that move in flow pixels.
    public var flowSource: Plane
    public var flowReference: Plane
    /// The coarse model as a displacement at flow resolution: where `flowReference` was read.
    public var flowPrewarp: FlowField
    /// The coarse similarity (`CoarseAlignment.similarity`) as a displacement at flow resolution:
    /// the forward flow less this is parallax, a little perspective and what the lenses'
    /// distortion leaves (which `ParallaxDefocusMap` takes out too).
    public var similarityFlow: FlowField
    /// The `I_src` grid's size, on which T is warped.
    public var size: Size
    /// `Ỹ_ref`: T's colour-matched luma warped onto the `I_src` grid; `Y_src` where the flow
    /// leads outside T's frame (`outsideReference` ≥ 0.5), where the warp would only repeat T's
    /// edge, so that no later stage sees it. Nil once the pipeline has handed it to fusion, which
    /// writes `Y_fusion` over its samples (`CapturePipeline.process`'s `keepingIntermediates`).
    public var warpedReference: Plane?
    /// 1 where the flow leads outside T's frame (nothing there to fuse), else 0; at flow
    /// resolution, like the other maps the blending stage reads.
    public var outsideReference: Plane
    /// Milliseconds per step, named as `Step` names them.
    public var timings: StageTimings

    /// `I_src` → T at full resolution, as the warp read it (made on demand, for measurements).
    public var fullResolutionFlow: FlowField { forward.flow.resized(to: size, interpolation: .bilinear) }

    /// The steps alignment is timed in (`align.<step>` in a capture's timings).
    public enum Step: String, CaseIterable {
        case coarse, colour, downsample, flow, occlusion, warp
    }
}

extension Alignment {
    /// Aligns T's luma (`reference`, upright, as captured) to `Y_src` (`source`, the same size).
    /// The coarse model is not applied by resampling `I_src`: the flow carries it, so the output
    /// stays in W's geometry and no full-resolution image is resampled twice.
    public static func align(source: Plane, reference: Plane, settings: AlignmentSettings = AlignmentSettings()) -> Alignment {
        align(source: SourceLuma(source), reading: reference, settings: settings)
    }

    /// The same with T as decoded, in 8 bits: no float copy of it is made, only of what is read.
    public static func align(source: Plane, reference: BytePlane, settings: AlignmentSettings = AlignmentSettings()) -> Alignment {
        align(source: SourceLuma(source), reading: reference, settings: settings)
    }

    /// The same with `Y_src` held or made as it is read.
    public static func align(
        source: SourceLuma, reference: BytePlane, settings: AlignmentSettings = AlignmentSettings()
    ) -> Alignment {
        align(source: source, reading: reference, settings: settings)
    }

    private static func align<P: ReadablePlane>(source: SourceLuma, reading reference: P, settings: AlignmentSettings) -> Alignment {
        precondition(source.size == reference.size, "I_src \(source.size) and T \(reference.size) differ in size")
        var clock = StageClock()
        let coarse = settings.coarse.align(source: source, reading: reference)
        clock.lap(named: Step.coarse.rawValue)

        let colour = ColourMatch.estimate(source: source, reading: reference, mapping: coarse.transform)
        clock.lap(named: Step.colour.rawValue)

        // Colour matching is affine and warping a weighted average, so T's luma is matched
        // after each resampling rather than at full resolution first.
        let small = flowSize(source.size, width: settings.flowWidth)
        let model = coarse.transform.scaled(
            x: Double(small.width) / Double(source.size.width), y: Double(small.height) / Double(source.size.height))
        let prewarp = FlowField(size: small, mapping: model)
        let similarityFlow = FlowField(
            size: small,
            mapping: coarse.similarity.scaled(
                x: Double(small.width) / Double(source.size.width), y: Double(small.height) / Double(source.size.height)))
        let sourceSmall = resample(source, from: source.size.bounds, to: small)
        let referenceSmall = colour.apply(resample(reference, from: reference.size.bounds, to: small))
        // T's low-resolution copy brought onto the source's grid by the coarse model, so the
        // flows only have the residual (parallax) left to find.
        let shifted = prewarp.sample(referenceSmall)
        clock.lap(named: Step.downsample.rawValue)

        let (forward, backward) = bothFlows(sourceSmall, shifted, model: model, settings: settings.flow)
        clock.lap(named: Step.flow.rawValue)
        let occlusion = occlusionMap(forward: forward.flow, backward: backward.flow, scale: settings.occlusionScale)
        clock.lap(named: Step.occlusion.rawValue)

        // The flow enlarged bilinearly (smooth enough for a flow field, and it never overshoots)
        // as the warp reads it: no full-resolution flow is made. Each warped row is matched in
        // colour and given I_src's pixels where T does not reach while it is in cache.
        let outside = invert(forward.flow.coverage())
        let sourceSize = source.size
        let sourceWhere = outside.pixels.contains(where: { $0 > 0 }) ? EnlargedMask(outside, to: sourceSize) : nil
        let warped = forward.flow.sample(reference, enlargedTo: sourceSize) { y, row, mask in
            colour.apply(to: row, count: sourceSize.width)
            guard let sourceWhere else { return }
            sourceWhere.row(y, columns: 0..<sourceSize.width, into: mask)
            guard let first = (0..<sourceSize.width).first(where: { mask[$0] >= 0.5 }),
                let last = (0..<sourceSize.width).last(where: { mask[$0] >= 0.5 })
            else { return }
            source.withRegion(rows: y..<(y + 1), columns: first..<(last + 1)) { region in
                let sourceRow = region.row(y, from: first)
                for x in first...last where mask[x] >= 0.5 { row[x] = sourceRow[x - first] }
            }
        }
        clock.lap(named: Step.warp.rawValue)
        return Alignment(
            coarse: coarse, colour: colour, forward: forward, backward: backward, occlusion: occlusion,
            flowSource: sourceSmall, flowReference: shifted, flowPrewarp: prewarp, similarityFlow: similarityFlow,
            size: sourceSize, warpedReference: warped, outsideReference: outside, timings: clock.timings)
    }

    /// The size of the flow's luma: `width` wide (never wider than the image), same aspect ratio.
    public static func flowSize(_ size: Size, width: Int) -> Size {
        let w = min(width, size.width)
        return Size(width: w, height: max(1, Int((Double(size.height) * Double(w) / Double(size.width)).rounded())))
    }

    /// Both directions at once, one per core, on the grid T was brought onto by the coarse model
    /// G (z, with T's point G(z)); then each turned into a flow between the frames themselves.
    /// Forward: x ↦ G(x + r(x)). Backward, found at z = G⁻¹(y) for T's pixel y: y ↦ z + b(z).
    private static func bothFlows(
        _ source: Plane, _ shifted: Plane, model: Homography,
        settings: DenseFlowSettings
    ) -> (DenseFlowResult, DenseFlowResult) {
        let results = [(source, shifted), (shifted, source)].concurrentMap { pair in
            DenseFlow.compute(from: pair.0, to: pair.1, settings: settings)
        }
        var forward = results[0], backward = results[1]
        forward.flow = forward.flow.followed(by: model)
        let back = FlowField(size: shifted.size, mapping: model.inverse ?? .identity)
        backward.flow = FlowField(u: back.sample(backward.flow.u), v: back.sample(backward.flow.v)).adding(back)
        backward.uncertainty = back.sample(backward.uncertainty)
        return (forward, backward)
    }

    private static func invert(_ mask: Plane) -> Plane {
        Plane(width: mask.width, height: mask.height, pixels: mask.pixels.map { 1 - $0 })
    }
}

extension FlowField {
    /// The displacement of a mapping at each pixel centre: pixel x goes to `mapping(x)`.
    public init(size: Size, mapping: Homography) {
        var (u, v) = (Plane(width: size.width, height: size.height), Plane(width: size.width, height: size.height))
        for y in 0..<size.height {
            for x in 0..<size.width {
                let centre = SIMD2(Double(x) + 0.5, Double(y) + 0.5), moved = mapping.apply(centre) - centre
                (u[x, y], v[x, y]) = (Float(moved.x), Float(moved.y))
            }
        }
        self.init(u: u, v: v)
    }

    /// The flow plus another on the same grid.
    public func adding(_ other: FlowField) -> FlowField {
        FlowField(
            u: Plane(width: u.width, height: u.height, pixels: zip(u.pixels, other.u.pixels).map(+)),
            v: Plane(width: v.width, height: v.height, pixels: zip(v.pixels, other.v.pixels).map(+)))
    }

    /// Each pixel x carried to x + flow(x), then by `mapping`: the flow x ↦ mapping(x + flow(x)).
    public func followed(by mapping: Homography) -> FlowField {
        var result = self
        for y in 0..<u.height {
            for x in 0..<u.width {
                let centre = SIMD2(Double(x) + 0.5, Double(y) + 0.5)
                let moved = mapping.apply(centre + SIMD2(Double(u[x, y]), Double(v[x, y]))) - centre
                (result.u[x, y], result.v[x, y]) = (Float(moved.x), Float(moved.y))
            }
        }
        return result
    }
}
