import CDNNL
import Glibc
import HybridZoom

/// The buffers of `FusionSchedule`'s slots, each sized for the largest window of one worker and
/// shared by the plans of all its window shapes: memory is bounded by the tile size, not by the
/// image. One region from `WorkspaceMemory`, given back when the worker is done.
final class Workspace {
    private let region: (address: UnsafeMutableRawPointer, bytes: Int)
    private let offsets: [FusionSchedule.Slot: Int]

    init(largestWindow window: Size, quantization: Quantization?) {
        var offsets: [FusionSchedule.Slot: Int] = [:], bytes = 0
        for (slot, cellBytes) in FusionSchedule.slotBytesPerCell(quantization) {
            offsets[slot] = bytes
            bytes += (levelSize(window, slot.level).pixelCount * cellBytes + 4095) / 4096 * 4096
        }
        region = WorkspaceMemory.shared.take(bytes: bytes)
        self.offsets = offsets
    }

    deinit { WorkspaceMemory.shared.give(region.address, bytes: region.bytes) }

    func buffer(_ slot: FusionSchedule.Slot) -> UnsafeMutableRawPointer { region.address + offsets[slot]! }
}

/// A level's height and width for a full-resolution window: 1/4 at level 0, halved per level.
func levelSize(_ window: Size, _ level: Int) -> Size {
    let factor = FusionArchitecture.block << level
    return Size(width: window.width / factor, height: window.height / factor)
}

/// The network set up for one window shape: a oneDNN primitive per convolution and pooling over
/// the workspace's buffers, and the hand-written passes between them. Built once per shape, run
/// for every tile of that shape.
final class TilePlan {
    private enum Step {
        case primitive(Primitive)
        /// A pass of Swift code over the workspace (upsampling, concatenation, quantization).
        case pass(() -> Void)
    }

    private let steps: [Step]
    /// Where the caller writes the space-to-depth input before `run`.
    let input: Activation<Float>
    /// Where `run` leaves the head's output.
    let output: Activation<Float>

    /// With `quantization`, its tensors are 8-bit and the convolutions that read them too.
    init(
        window: Size, weights: [String: LayerWeights], quantization: Quantization?, workspace: Workspace,
        context: ComputeContext
    ) throws(OneDNNError) {
        func activation<Value>(_ tensor: FusionSchedule.Tensor, _: Value.Type) -> Activation<Value> {
            let size = levelSize(window, tensor.level)
            return Activation(
                pointer: workspace.buffer(tensor.slot).assumingMemoryBound(to: Value.self),
                channels: tensor.channels, width: size.width, height: size.height)
        }
        func scale(_ tensor: FusionSchedule.Tensor) -> Float? { quantization?.scales[tensor.name] }
        func memory(_ tensor: FusionSchedule.Tensor) throws(OneDNNError) -> Memory {
            let size = levelSize(window, tensor.level)
            let descriptor = try activationDescriptor(
                channels: tensor.channels, height: size.height, width: size.width, bytes: scale(tensor) != nil)
            return try Memory(descriptor, borrowing: workspace.buffer(tensor.slot), in: context)
        }
        var steps: [Step] = []
        for operation in FusionSchedule.operations {
            switch operation {
            case let .averagePooling(source, into: destination):
                if scale(source) == nil, let step = scale(destination) {
                    let (fine, coarse) = (activation(source, Float.self), activation(destination, UInt8.self))
                    steps.append(.pass { averagePoolingQuantizing(fine, into: coarse, scale: step) })
                } else {
                    steps.append(.primitive(try makeAveragePooling(source: memory(source), destination: memory(destination), in: context)))
                }
            case let .convolution(layer, source, into: destination):
                steps.append(
                    .primitive(
                        try makeConvolution(
                            weights[layer.name]!, source: memory(source), destination: memory(destination),
                            scales: scale(source).map { ConvolutionScales(source: $0, destination: scale(destination)) },
                            in: context)))
            case let .upsampleConcatenating(coarse, skip, into: joined):
                if scale(joined) != nil {
                    let tensors = (activation(coarse, UInt8.self), activation(skip, UInt8.self), activation(joined, UInt8.self))
                    steps.append(.pass { upsampleConcatenating(coarse: tensors.0, skip: tensors.1, into: tensors.2) })
                } else {
                    let tensors = (activation(coarse, Float.self), activation(skip, Float.self), activation(joined, Float.self))
                    steps.append(.pass { upsampleConcatenating(coarse: tensors.0, skip: tensors.1, into: tensors.2) })
                }
            }
        }
        self.steps = steps
        input = activation(FusionSchedule.input, Float.self)
        output = activation(FusionSchedule.output, Float.self)
    }

    /// The oneDNN implementation of each convolution and pooling, in execution order.
    var implementations: [String] {
        steps.compactMap { step in
            if case let .primitive(primitive) = step { primitive.implementation } else { nil }
        }
    }

    /// Runs the network from `input` to `output`.
    func run(in context: ComputeContext) throws(OneDNNError) {
        for step in steps {
            switch step {
            case let .primitive(primitive):
                try primitive.execute(in: context)
            case let .pass(body):
                try context.wait()
                body()
            }
        }
        try context.wait()
    }
}

/// One worker of a `fuse` call: its oneDNN engine and stream, its workspace, and a plan for each
/// window shape it has met.
final class TileRunner {
    private let context: ComputeContext
    private let workspace: Workspace
    private let weights: [String: LayerWeights]
    private let quantization: Quantization?
    private var plans: [Size: TilePlan] = [:]

    init(largestWindow: Size, weights: [String: LayerWeights], quantization: Quantization?) throws(OneDNNError) {
        context = try ComputeContext()
        workspace = Workspace(largestWindow: largestWindow, quantization: quantization)
        (self.weights, self.quantization) = (weights, quantization)
    }

    /// Runs the network on `tile` of `frame`, writing the tile's output pixels inside the image.
    func run(_ tile: Tile, on frame: FrameBuffers) throws(OneDNNError) {
        let plan = try self.plan(for: tile.window.size)
        spaceToDepth([frame.source, frame.reference], frame.occlusion, size: frame.size, window: tile.window, into: plan.input)
        try plan.run(in: context)
        // The padded image's last tiles reach past the image: only the pixels inside it are kept.
        let inside = PixelRect(
            x: tile.output.x, y: tile.output.y,
            width: min(tile.output.width, frame.size.width - tile.output.x),
            height: min(tile.output.height, frame.size.height - tile.output.y))
        depthToSpaceAddingSource(
            plan.output, origin: (tile.window.x, tile.window.y), source: frame.source,
            width: frame.size.width, rect: inside, into: frame.output)
    }

    private func plan(for window: Size) throws(OneDNNError) -> TilePlan {
        if let plan = plans[window] { return plan }
        let plan = try TilePlan(window: window, weights: weights, quantization: quantization, workspace: workspace, context: context)
        plans[window] = plan
        return plan
    }
}
