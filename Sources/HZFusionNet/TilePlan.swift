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
            var cells = levelSize(window, slot.level)
            if slot.role == .band { cells.height = min(cells.height, FusionSchedule.bandRows + 2) }
            offsets[slot] = bytes
            bytes += (cells.pixelCount * cellBytes + 4095) / 4096 * 4096
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
        /// A full-detail convolution run band by band; `fill` writes each band's source rows
        /// (nil: the network's input, which the caller writes).
        case banded(BandedConvolution, fill: ((_ rows: Range<Int>, _ band: Activation<Float>) -> Void)?)
    }

    private let steps: [Step]
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
        var bandFill: ((Range<Int>, Activation<Float>) -> Void)?  // for the banded convolution that follows
        for operation in FusionSchedule.operations {
            switch operation {
            case let .averagePooling(source, into: destination):
                if scale(source) == nil, let step = scale(destination) {
                    let (fine, coarse) = (activation(source, Float.self), activation(destination, UInt8.self))
                    steps.append(.pass { averagePoolingQuantizing(fine, into: coarse, scale: step) })
                } else {
                    steps.append(.primitive(try makeAveragePooling(source: memory(source), destination: memory(destination), in: context)))
                }
            case let .convolution(layer, source, into: destination) where source.slot.role == .band:
                precondition(scale(source) == nil && scale(destination) == nil, "the full-detail level is in floats")
                let banded = try BandedConvolution(
                    weights[layer.name]!, source: activation(source, Float.self), destination: activation(destination, Float.self),
                    in: context)
                steps.append(.banded(banded, fill: bandFill))
                bandFill = nil
            case let .convolution(layer, source, into: destination):
                steps.append(
                    .primitive(
                        try makeConvolution(
                            weights[layer.name]!, source: memory(source), destination: memory(destination),
                            scales: scale(source).map { ConvolutionScales(source: $0, destination: scale(destination)) },
                            in: context)))
            case let .upsampleConcatenating(coarse, skip, into: joined) where joined.slot.role == .band:
                let tensors = (activation(coarse, Float.self), activation(skip, Float.self))
                bandFill = { rows, band in upsampleConcatenating(coarse: tensors.0, skip: tensors.1, rows: rows, into: band) }
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
        output = activation(FusionSchedule.output, Float.self)
    }

    /// The oneDNN implementation of each convolution and pooling, in execution order.
    var implementations: [String] {
        steps.compactMap { step in
            switch step {
            case let .primitive(primitive): primitive.implementation
            case let .banded(convolution, _): convolution.implementation
            case .pass: nil
            }
        }
    }

    /// Runs the network to `output`; `writeInput(rows, band)` writes the input's rows `rows` (of
    /// the full-detail level) into `band`, which is that many rows high.
    func run(in context: ComputeContext, writeInput: (_ rows: Range<Int>, _ band: Activation<Float>) -> Void) throws(OneDNNError) {
        for step in steps {
            switch step {
            case let .primitive(primitive):
                try primitive.execute(in: context)
            case let .pass(body):
                try context.wait()
                body()
            case let .banded(convolution, fill?):
                try convolution.run(in: context, fill: fill)
            case let .banded(convolution, nil):
                try convolution.run(in: context, fill: writeInput)
            }
        }
        try context.wait()
    }
}

/// A 3×3 convolution of the full-detail level whose source never exists whole: for each band of
/// `FusionSchedule.bandRows` destination rows, its source rows and the row above and below
/// (where the level has them; zero padding at its edges) are written into the band slot, and
/// the convolution computes the band's rows from them. Bands differ only in where their rows
/// start, the first and last in their padding, so a few primitives serve them all, pointed at
/// each band's destination rows in turn. Computes what the whole convolution would.
final class BandedConvolution {
    private struct Variant {
        var primitive: Primitive
        var destination: Memory
    }

    private struct Band {
        var rows: Range<Int>
        var sourceRows: Range<Int>
        var variant: Int
    }

    private let variants: [Variant]
    private let bands: [Band]
    private let source: Activation<Float>
    private let destination: Activation<Float>

    init(
        _ weights: LayerWeights, source: Activation<Float>, destination: Activation<Float>, in context: ComputeContext
    ) throws(OneDNNError) {
        let height = destination.height
        var variants: [Variant] = [], shapes: [[Int]: Int] = [:], bands: [Band] = []
        for start in stride(from: 0, to: height, by: FusionSchedule.bandRows) {
            let rows = start..<min(start + FusionSchedule.bandRows, height)
            let sourceRows = max(rows.lowerBound - 1, 0)..<min(rows.upperBound + 1, height)
            let padding = (top: rows.lowerBound == 0 ? 1 : 0, bottom: rows.upperBound == height ? 1 : 0)
            let shape = [sourceRows.count, padding.top, padding.bottom]
            if shapes[shape] == nil {
                shapes[shape] = variants.count
                let input = try Memory(
                    activationDescriptor(channels: source.channels, height: sourceRows.count, width: source.width),
                    borrowing: source.pointer, in: context)
                let output = try Memory(
                    activationDescriptor(channels: destination.channels, height: rows.count, width: destination.width),
                    borrowing: destination.pointer, in: context)
                let primitive = try makeConvolution(weights, source: input, destination: output, padding: padding, in: context)
                variants.append(Variant(primitive: primitive, destination: output))
            }
            bands.append(Band(rows: rows, sourceRows: sourceRows, variant: shapes[shape]!))
        }
        (self.variants, self.bands, self.source, self.destination) = (variants, bands, source, destination)
    }

    /// The implementation oneDNN chose for the bands inside the level.
    var implementation: String { variants[bands[bands.count / 2].variant].primitive.implementation }

    func run(in context: ComputeContext, fill: (_ rows: Range<Int>, _ band: Activation<Float>) -> Void) throws(OneDNNError) {
        let rowValues = destination.width * destination.channels
        for band in bands {
            try context.wait()  // the band slot is free again
            var slot = source
            slot.height = band.sourceRows.count
            fill(band.sourceRows, slot)
            let variant = variants[band.variant]
            try variant.destination.point(at: destination.pointer + band.rows.lowerBound * rowValues)
            try variant.primitive.execute(in: context)
        }
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
        try plan.run(in: context) { rows, band in
            let block = FusionArchitecture.block
            var window = tile.window
            (window.y, window.height) = (window.y + rows.lowerBound * block, rows.count * block)
            spaceToDepth([frame.source, frame.reference], frame.occlusion, size: frame.size, window: window, into: band)
        }
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
