/// Step 8, flow uncertainty: `M_flow = min(S, s_max) / s_max`, with the flow's uncertainty S in
/// full-resolution pixels of I_src.
public struct FlowUncertaintyMap: BlendMap {
    public static let name = "uncertainty"

    /// s_max, px.
    public var limit: Float

    public init(limit: Float = BlendTuning.uncertaintyLimit) {
        precondition(limit > 0, "the uncertainty limit must be positive")
        self.limit = limit
    }

    public func map(_ inputs: BlendInputs) -> Plane {
        var result = inputs.flowUncertainty
        let perPixel = inputs.fullResolutionScale / limit
        result.pixels.withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] = min(values[i] * perPixel, 1) }
        }
        return result
    }
}
