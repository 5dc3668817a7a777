import CDNNL
import CFusionWeights
import Foundation
import HybridZoom
import Synchronization

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
///
/// A weights file with activation ranges (`Training/calibrate.py`) runs its coarse levels in 8
/// bits on CPUs with VNNI (`FusionPrecision.int8`), the rest in floats; `precision` says which.
public struct FusionNetwork: Sendable {
    private let weights: [String: LayerWeights]
    /// The 8-bit tensors' scales, from the file's activation ranges; nil when it has none.
    private let quantization: Quantization?
    /// How `fuse` runs: `.int8` where the file allows it and the CPU has VNNI, else `.float32`.
    public private(set) var precision: FusionPrecision
    /// The file's `__metadata__`: how the weights were trained.
    public let metadata: [String: String]
    /// Where the weights came from, for messages.
    public let name: String
    /// Which weights these are (`SafeTensors.digest`), for the sidecar-independent record of
    /// what made an image: metrics' build info.
    public let digest: String

    /// Output tiles of 2048 × 2048 pixels: a 12 MP frame in four tiles, two per worker, each
    /// worker holding about 76 MB in floats (17 bytes per window pixel and the bands,
    /// `FusionSchedule`) or 38 MB with 8-bit coarse levels (8). Measured on 12 MP with two free
    /// cores, when the full-detail level was held whole: 1024 took 0.24 s, 1536 0.20 s, 2048
    /// 0.18 s, and 3072 0.16 s for 190 MB more. With 8-bit coarse levels 3072 was again faster
    /// (0.21 s against 0.27 s, two runs of `make bench` on an Intel Xeon) and the daemon's peak
    /// 200 MB higher: 2048 stays, because the tile workspace is what a streaming pipeline has
    /// left to bound memory.
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
            weights[layer.name] = LayerWeights(
                layer: layer, weights: try file.floats(layer.weightKey, shape: layer.weightShape),
                bias: try file.floats(layer.biasKey, shape: [layer.outputChannels]))
        }
        let expected = Set(FusionArchitecture.layers.flatMap { [$0.weightKey, $0.biasKey] })
        if let extra = file.tensorNames.first(where: { !expected.contains($0) }) {
            throw SafeTensorsError(file: file.name, problem: "has tensor \(extra), which \(FusionArchitecture.name) does not")
        }
        if let problem = file.dataLayoutProblem { throw SafeTensorsError(file: file.name, problem: problem) }
        self.weights = weights
        (metadata, name, digest) = (file.metadata, file.name, file.digest)
        quantization = try file.metadata["activation_ranges"].map { text throws(SafeTensorsError) in
            Quantization(ranges: try Self.activationRanges(text, file: file.name))
        }
        precision = quantization != nil && FusionPrecision.cpuRunsInt8Fast ? .int8 : .float32
    }

    /// The file's `activation_ranges` (JSON: tensor name → largest value kept), checked to hold
    /// a usable range for every tensor that 8-bit runs need, as the floats they are used as (a
    /// range of 0 would make the tensor's step 0, and every value an infinity of steps; one of
    /// 10⁻⁵⁰ is 0 as a float).
    private static func activationRanges(_ text: String, file: String) throws(SafeTensorsError) -> [String: Float] {
        let decoded = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Double]
        guard let decoded else {
            throw SafeTensorsError(file: file, problem: "activation_ranges is not a JSON map of numbers")
        }
        let ranges = decoded.mapValues(Float.init)
        for name in Quantization.requiredRanges.sorted() {
            guard let range = ranges[name] else {
                throw SafeTensorsError(file: file, problem: "activation_ranges has no usable range for \(name)")
            }
            guard (Self.usableRanges).contains(range) else {
                throw SafeTensorsError(
                    file: file,
                    problem: "activation_ranges has no usable range for \(name): \(decoded[name]!), where it must lie within \(Self.usableRanges)")
            }
        }
        return ranges
    }

    /// Activations of a trained network are of the order of 1.
    private static let usableRanges: ClosedRange<Float> = 1e-6...1e6

    /// The same weights run at `precision`: `.int8` only where the file has activation ranges
    /// (`nil` otherwise), whatever the CPU (slower than floats without VNNI, for comparisons).
    public func running(at precision: FusionPrecision) -> FusionNetwork? {
        guard precision == .float32 || quantization != nil else { return nil }
        var network = self
        network.precision = precision
        return network
    }

    private var activeQuantization: Quantization? { precision == .int8 ? quantization : nil }

    /// `Y_fusion` for inputs of any size: Y_src plus the network's residual, plus `base`'s
    /// detail where given (`NetworkFusion`). Not clamped: values may leave [0, 1] slightly, as
    /// PyTorch's do. Written over `Ỹ_ref`'s samples when the caller hands over the only reference
    /// to them, holding only the tiles not yet copied in (`TileSchedule`); else over a copy.
    ///
    /// The image is run in tiles of at most `tileSize` × `tileSize` output pixels (a multiple of
    /// 64), each with `FusionArchitecture.halo` (256) pixels of context, which changes no output
    /// beyond float rounding. Tiles are shared out to one worker per core, each running oneDNN on
    /// a single thread. oneDNN's own OpenMP threads, two per primitive and 17 short primitives per
    /// tile (before the full-detail level ran in bands), spun at barriers whenever another process wanted a core: a 12 MP frame took 0.3–1.5 s
    /// that way against 0.2–0.4 s in workers, and a 2 MP frame 0.3 s against 0.05 s on one core.
    /// So an image of one tile (both sides at most `tileSize`) runs on one core.
    public func fuse(
        _ inputs: consuming FusionInputs, addingDetailOf base: ClassicalFusion? = nil, tileSize: Int = defaultTileSize
    ) throws(OneDNNError) -> Plane {
        let size = inputs.source.size
        guard size.pixelCount > 0 else { return inputs.reference }  // as empty as Y_src
        precondition((base?.reach ?? 0) <= FusionArchitecture.halo, "the band split reaches beyond a tile's window")
        let (source, occlusion) = (inputs.source, inputs.occlusion)
        var output = inputs.reference
        _ = consume inputs
        try source.withHeldPixels { held throws(OneDNNError) in
            let schedule = TileSchedule(HZFusionNet.tiles(for: size, tileSize: tileSize), size: size)
            let workers = Self.workers(tiles: schedule.tiles.count)
            try output.pixels.withUnsafeMutableBufferPointer { output throws(OneDNNError) in
                let frame = FrameBuffers(
                    source: source, heldSource: held, reference: UnsafeBufferPointer(output), occlusion: occlusion,
                    output: output, size: size)
                _ = try Array(0..<workers).concurrentMap { _ throws(OneDNNError) in
                    try withOneOpenMPThread { () throws(OneDNNError) in
                        let runner = try TileRunner(
                            largestWindow: schedule.largestWindow, makesSource: frame.heldSource == nil, weights: weights,
                            quantization: activeQuantization)
                        while let tile = schedule.next() {
                            let pixels = schedule.outputBuffer()
                            try runner.run(
                                schedule.tiles[tile], on: frame, adding: base, into: pixels,
                                inputRead: { schedule.inputRead(tile, frame: frame) })
                            schedule.finished(tile, pixels, frame: frame)
                        }
                    }
                }
            }
        }
        // A frame too large to hold `Y_src` for is one where memory counts more than faults: the
        // workspaces (38 MB a worker) go now rather than stay through the stages after fusion.
        if source.isMadeAsRead { WorkspaceMemory.shared.release() }
        return output
    }

    /// One per core, at most one per tile.
    private static func workers(tiles: Int) -> Int { min(tiles, ProcessInfo.processInfo.activeProcessorCount) }

    /// What `fuse` holds besides the image for one of `size` (for a memory budget): how many
    /// workers run, and each one's tile workspace for the largest window, with its window of
    /// `Y_src` where that is made as it is read.
    public func workerMemory(for size: Size, makesSource: Bool, tileSize: Int = defaultTileSize) -> (workers: Int, bytesEach: Int) {
        let tiles = HZFusionNet.tiles(for: size, tileSize: tileSize)
        guard !tiles.isEmpty else { return (0, 0) }
        let window = largestWindow(of: tiles)
        let workspace = Workspace.layout(largestWindow: window, quantization: activeQuantization).bytes
        return (Self.workers(tiles: tiles.count), workspace + (makesSource ? window.pixelCount * MemoryLayout<Float>.size : 0))
    }

    /// The oneDNN implementation of each convolution and pooling of a tile's run, in execution
    /// order, as `fuse` sets it up on this CPU (for `hzsr bench`).
    public func implementations(tileSize: Int = defaultTileSize) throws(OneDNNError) -> [String] {
        let side = tileSize + 2 * FusionArchitecture.halo, window = Size(width: side, height: side)
        var names: [String] = []
        try withOneOpenMPThread { () throws(OneDNNError) in
            let workspace = Workspace(largestWindow: window, quantization: activeQuantization)
            let plan = try TilePlan(
                window: window, weights: weights, quantization: activeQuantization, workspace: workspace, context: ComputeContext())
            names = plan.implementations
            withExtendedLifetime(workspace) {}
        }
        return names
    }
}

/// The tiles of one `fuse` call, handed to its workers one at a time as each becomes free, and
/// their outputs on the way into the frame. `Y_fusion` is written over `Ỹ_ref`, which tiles read
/// their input from, so a tile's output is held in a buffer of its own until every tile whose
/// window overlaps it has read its input, then copied in. Tiles go in row-major order, so at
/// 100 MP (6 × 5 tiles) about a row of them is held, 100 MB; at 12 MP every window overlaps all
/// four outputs, which wait for the last tile. The buffers are reused from tile to tile.
private final class TileSchedule: Sendable {
    let tiles: [Tile]
    let largestWindow: Size
    /// Each tile's output pixels inside the image (its buffer's), and the tiles whose windows read them.
    private let inside: [PixelRect]
    private let readers: [[Int]]
    /// Samples in a buffer: the largest tile's inside the image.
    private let bufferCapacity: Int
    private let state: Mutex<State>

    private struct State {
        var taken = 0
        var inputRead: [Bool]
        var held: [(tile: Int, pixels: OutputBuffer)] = []
        var spare: [OutputBuffer] = []
        /// Every buffer made, freed with the schedule (also those of a run that failed).
        var made: [OutputBuffer] = []

        /// The held outputs whose readers have all read their input, taken out of `held`.
        mutating func takeCopyable(_ readers: [[Int]]) -> [(tile: Int, pixels: OutputBuffer)] {
            var copyable: [(tile: Int, pixels: OutputBuffer)] = []
            held.removeAll { output in
                let ready = readers[output.tile].allSatisfy { inputRead[$0] }
                if ready { copyable.append(output) }
                return ready
            }
            return copyable
        }
    }

    init(_ tiles: [Tile], size: Size) {
        self.tiles = tiles
        largestWindow = HZFusionNet.largestWindow(of: tiles)
        let inside = tiles.map { $0.outputInside(size) }
        readers = inside.map { rect in tiles.indices.filter { tiles[$0].window.overlaps(rect) } }
        self.inside = inside
        bufferCapacity = inside.map(\.size.pixelCount).max()!
        state = Mutex(State(inputRead: Array(repeating: false, count: tiles.count)))
    }

    deinit {
        state.withLock { state in
            for buffer in state.made { buffer.value.deallocate() }
        }
    }

    /// The next tile's index, nil when all are taken.
    func next() -> Int? {
        state.withLock { state in
            guard state.taken < tiles.count else { return nil }
            defer { state.taken += 1 }
            return state.taken
        }
    }

    /// A buffer for any tile's output pixels, holding what it last held.
    func outputBuffer() -> OutputBuffer {
        state.withLock { state in
            if let spare = state.spare.popLast() { return spare }
            state.made.append(OutputBuffer(.allocate(capacity: bufferCapacity)))
            return state.made.last!
        }
    }

    /// `tile` has read all it reads of `Ỹ_ref`.
    func inputRead(_ tile: Int, frame: FrameBuffers) {
        let copyable = state.withLock { state in
            state.inputRead[tile] = true
            return state.takeCopyable(readers)
        }
        copyIn(copyable, frame: frame)
    }

    /// `tile`'s output is all in `pixels`.
    func finished(_ tile: Int, _ pixels: OutputBuffer, frame: FrameBuffers) {
        let copyable = state.withLock { state in
            state.held.append((tile, pixels))
            return state.takeCopyable(readers)
        }
        copyIn(copyable, frame: frame)
    }

    /// Copies the outputs into the frame (no tile will read those pixels again), and keeps
    /// their buffers for the next tiles.
    private func copyIn(_ outputs: [(tile: Int, pixels: OutputBuffer)], frame: FrameBuffers) {
        guard !outputs.isEmpty else { return }
        for (tile, pixels) in outputs {
            let rect = inside[tile]
            for row in 0..<rect.height {
                (frame.output.baseAddress! + (rect.y + row) * frame.size.width + rect.x)
                    .update(from: pixels.value.baseAddress! + row * rect.width, count: rect.width)
            }
        }
        state.withLock { $0.spare += outputs.map(\.pixels) }
    }
}

/// A tile's output pixels, row by row, as wide as its part inside the image.
typealias OutputBuffer = UncheckedSendable<UnsafeMutableBufferPointer<Float>>

/// The planes of one `fuse` call as buffers its workers share: `reference` is `output`'s memory,
/// written only where no tile reads it again (`TileSchedule`). `Y_src` is read where it is held
/// (`heldSource`), else each tile makes its window of it.
struct FrameBuffers: @unchecked Sendable {
    var source: SourceLuma
    var heldSource: UnsafeBufferPointer<Float>?
    var reference: UnsafeBufferPointer<Float>
    var occlusion: EnlargedMask
    var output: UnsafeMutableBufferPointer<Float>
    var size: Size
}

/// Runs `body` with the oneDNN primitives it creates and runs on this thread using this thread
/// alone (OpenMP's setting is per thread; the one before is restored).
private func withOneOpenMPThread<E: Error>(_ body: () throws(E) -> Void) throws(E) {
    let saved = omp_get_max_threads()
    omp_set_num_threads(1)
    defer { omp_set_num_threads(saved) }
    try body()
}
