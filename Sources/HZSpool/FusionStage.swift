import HZFusionNet
import HybridZoom

/// Step 7 as configured: which method fuses T's detail into W.
public struct FusionSettings: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        /// The fusion network (`FusionNetwork`), with the shipped model or `model`.
        case network
        /// Two-band detail transfer (`ClassicalFusion`).
        case classical
        /// No fusion: every capture publishes the W digital zoom.
        case off
    }

    /// How the network computes: `auto` runs its coarse levels in 8 bits where the model file
    /// carries activation ranges and the CPU has VNNI (`FusionPrecision`); `float32` never does.
    public enum Precision: String, Sendable, CaseIterable {
        case auto
        case float32
    }

    public var method: Method
    /// The network's model file (safetensors); nil: the model built into the program.
    public var model: String?
    public var precision: Precision
    /// Classical fusion's band split, in W's pixels (so in `I_src`'s, times the zoom ratio):
    /// detail finer than this comes from T. Chosen on the evaluation set: PSNR inside T's view
    /// rose from 31.1 dB (W digital zoom) to 33.7, 35.3, 36.5, 37.3 and 37.3 dB at 0.5, 0.75,
    /// 1, 1.5 and 2 W pixels (zoom ratio 2), then fell.
    public var bandSplitSigma: Double

    public init(method: Method, model: String? = nil, precision: Precision = .auto, bandSplitSigma: Double = 1.5) {
        (self.method, self.model, self.precision, self.bandSplitSigma) = (method, model, precision, bandSplitSigma)
    }
}

/// Step 7 ready to run: the configured method with its network loaded. Loading reads and checks
/// the model file, so it happens once, apart from parsing the config: at start, in the commands
/// that fuse, and on a reload only when the method or the model file changed.
public struct FusionStage: Sendable {
    public let settings: FusionSettings
    /// The loaded network, with method `network`.
    public let network: NetworkFusion?

    /// Loads what `settings` needs, taking the network from `previous` when it is the same model.
    /// A model that cannot be loaded is a `ConfigError` on `fusion.model`.
    public init(_ settings: FusionSettings, reusing previous: FusionStage? = nil) throws {
        self.settings = settings
        guard settings.method == .network else {
            network = nil
            return
        }
        if let previous, let loaded = previous.network, previous.settings.model == settings.model,
            previous.settings.precision == settings.precision
        {
            network = loaded
            return
        }
        do {
            let loaded = try settings.model.map { path throws(SafeTensorsError) in try FusionNetwork(contentsOf: path) } ?? FusionNetwork.shipped()
            network = try NetworkFusion(network: settings.precision == .float32 ? loaded.running(at: .float32)! : loaded)
        } catch {
            throw ConfigError(key: "fusion.model", line: nil, problem: "\(error)")
        }
    }

    /// Step 7 for a rig of `zoomRatio`; nil when fusion is off.
    public func fusion(zoomRatio: Double) -> (any Fusion)? {
        switch settings.method {
        case .network: network
        case .classical: ClassicalFusion(bandSplitSigma: settings.bandSplitSigma * zoomRatio)
        case .off: nil
        }
    }
}
