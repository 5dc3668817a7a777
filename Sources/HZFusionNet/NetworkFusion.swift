import HybridZoom

/// Step 7 as the daemon runs it: the network's residual added to classical detail transfer.
///
/// The network is trained to correct what the two-band split gets wrong (T's noise and JPEG
/// blocks carried in its high band, edges a little off after the warp, W's band where T is
/// unusable) rather than to rediscover the split itself, which a network this small learns only
/// slowly: it starts where classical fusion is, and training can only move it towards the
/// target. The model file says which split it was trained on (`__metadata__.base_sigma`, in
/// `I_src` pixels); a model without one adds its residual to `Y_src`, as `FusionUNet` does alone.
public struct NetworkFusion: Fusion {
    public let network: FusionNetwork
    public let base: ClassicalFusion?

    public init(network: FusionNetwork) throws(SafeTensorsError) {
        self.network = network
        guard let text = network.metadata["base_sigma"] else {
            base = nil
            return
        }
        // The detail is added tile by tile, so its blur (3σ) must stay within a tile's halo.
        let limit = Double(FusionArchitecture.halo) / 3
        guard let sigma = Double(text), sigma > 0, sigma <= limit else {
            throw SafeTensorsError(
                file: network.name,
                problem: "base_sigma '\(text)' is not a number above 0 and at most \(String(format: "%.1f", limit)) (pixels)")
        }
        base = ClassicalFusion(bandSplitSigma: sigma)
    }

    public func fuse(_ inputs: consuming FusionInputs) throws -> Plane {
        try network.fuse(consume inputs, addingDetailOf: base)
    }
}
