import CFusionWeights
import HybridZoom

/// One convolution's parameters as the state_dict holds them: OIHW weights and a bias.
struct LayerWeights: Sendable {
    var layer: FusionArchitecture.Layer
    var weights: [Float]
    var bias: [Float]
}

/// The fusion network of pipeline step 7 with its weights, run on the CPU by oneDNN exactly as
/// PyTorch's `FusionUNet.fuse()` runs it (up to float rounding).
///
/// A value: loading validates every tensor, and each `fuse` call sets up its own oneDNN engine,
/// buffers and primitives, so one network serves any number of concurrent calls.
public struct FusionNetwork: Sendable {
    private let weights: [String: LayerWeights]

    /// Output tiles of 2048 × 2048 pixels: a 12 MP frame in four tiles. Smaller tiles spend more
    /// time on their halos; larger ones use more memory (about 33 bytes per window pixel) for
    /// little gain.
    public static let defaultTileSize = 2048

    /// Loads and validates the weights in the safetensors file at `path`.
    public init(contentsOf path: String) throws(SafeTensorsError) {
        try self.init(SafeTensors(contentsOf: path))
    }

    /// Loads and validates the weights in a safetensors file's `bytes`; `name` names it in errors.
    public init(safetensors bytes: [UInt8], name: String) throws(SafeTensorsError) {
        try self.init(SafeTensors(bytes: bytes, name: name))
    }

    /// The weights compiled into the binary (`Sources/HZFusionNet/Resources/fusion-unet.safetensors`).
    public static func shipped() throws(SafeTensorsError) -> FusionNetwork {
        let bytes = UnsafeBufferPointer(start: hzsr_fusion_weights(), count: hzsr_fusion_weights_size())
        return try FusionNetwork(safetensors: Array(bytes), name: "fusion-unet.safetensors (shipped)")
    }

    /// Requires exactly the architecture's tensors, each F32 of its shape, and no others, so a
    /// file from another version of model.py is refused at load rather than misread.
    private init(_ file: SafeTensors) throws(SafeTensorsError) {
        if let architecture = file.metadata["architecture"], architecture != FusionArchitecture.name {
            throw SafeTensorsError(file: file.name, problem: "holds architecture \(architecture), expected \(FusionArchitecture.name)")
        }
        var weights: [String: LayerWeights] = [:]
        for layer in FusionArchitecture.layers {
            weights[layer.name] = LayerWeights(layer: layer, weights: try file.floats(layer.weightKey, shape: layer.weightShape),
                                               bias: try file.floats(layer.biasKey, shape: [layer.outputChannels]))
        }
        let expected = Set(FusionArchitecture.layers.flatMap { [$0.weightKey, $0.biasKey] })
        if let extra = file.tensorNames.first(where: { !expected.contains($0) }) {
            throw SafeTensorsError(file: file.name, problem: "has tensor \(extra), which \(FusionArchitecture.name) does not")
        }
        self.weights = weights
    }

    /// `Y_fusion` for three planes of one size (any size): Y_src plus the network's residual.
    /// Not clamped: values may leave [0, 1] slightly, as PyTorch's do.
    ///
    /// The image is run in tiles of at most `tileSize` × `tileSize` output pixels (a multiple of
    /// 64), each with `FusionArchitecture.halo` (256) pixels of context, which changes no output
    /// beyond float rounding.
    public func fuse(source: Plane, reference: Plane, occlusion: Plane,
                     tileSize: Int = defaultTileSize) throws(OneDNNError) -> Plane {
        precondition(source.size == reference.size && source.size == occlusion.size,
                     "fusion inputs differ in size: \(source.size), \(reference.size), \(occlusion.size)")
        let size = source.size
        guard size.pixelCount > 0 else { return source }
        let tiles = HZFusionNet.tiles(for: size, tileSize: tileSize)
        let context = try ComputeContext()
        let workspace = Workspace(largestWindow: Size(width: tiles.map(\.window.width).max()!,
                                                      height: tiles.map(\.window.height).max()!))
        var plans: [Size: TilePlan] = [:]
        var output = Plane(width: size.width, height: size.height)
        for tile in tiles {
            let plan: TilePlan
            if let known = plans[tile.window.size] {
                plan = known
            } else {
                plan = try TilePlan(window: tile.window.size, weights: weights, workspace: workspace, context: context)
                plans[tile.window.size] = plan
            }
            try run(plan, on: tile, inputs: (source, reference, occlusion), into: &output, context: context)
        }
        return output
    }

    private func run(_ plan: TilePlan, on tile: Tile, inputs: (source: Plane, reference: Plane, occlusion: Plane),
                     into output: inout Plane, context: ComputeContext) throws(OneDNNError) {
        let size = output.size
        inputs.source.pixels.withUnsafeBufferPointer { source in
            inputs.reference.pixels.withUnsafeBufferPointer { reference in
                inputs.occlusion.pixels.withUnsafeBufferPointer { occlusion in
                    spaceToDepth([source, reference, occlusion], size: size, window: tile.window, into: plan.input)
                }
            }
        }
        try plan.run(in: context)
        // The padded image's last tiles reach past the image: only the pixels inside it are kept.
        let inside = PixelRect(x: tile.output.x, y: tile.output.y,
                               width: min(tile.output.width, size.width - tile.output.x),
                               height: min(tile.output.height, size.height - tile.output.y))
        inputs.source.pixels.withUnsafeBufferPointer { source in
            output.pixels.withUnsafeMutableBufferPointer { output in
                depthToSpaceAddingSource(plan.output, origin: (tile.window.x, tile.window.y), source: source,
                                         width: size.width, rect: inside, into: output)
            }
        }
    }
}
