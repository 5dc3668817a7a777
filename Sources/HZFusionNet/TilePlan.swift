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
        let layout = Self.layout(largestWindow: window, quantization: quantization)
        region = WorkspaceMemory.shared.take(bytes: layout.bytes)
        offsets = layout.offsets
    }

    /// Each slot's offset, page-aligned, and the bytes they take together.
    static func layout(largestWindow window: Size, quantization: Quantization?) -> (offsets: [FusionSchedule.Slot: Int], bytes: Int) {
        var offsets: [FusionSchedule.Slot: Int] = [:], bytes = 0
        for (slot, cellBytes) in FusionSchedule.slotBytesPerCell(quantization) {
            var cells = levelSize(window, slot.level)
            if slot.isBanded { cells.height = min(cells.height, FusionSchedule.bandSlotRows) }
            offsets[slot] = bytes
            bytes += (cells.pixelCount * cellBytes + 4095) / 4096 * 4096
        }
        return (offsets, bytes)
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
        /// Full-detail convolutions run band by band; `fill` writes each band's first source
        /// (nil: the network's input, which the caller writes). The head's bands go to the caller.
        case banded(BandedConvolutions, fill: BandAccess?)
    }

    /// Rows `rows` of the full-detail level, in `band` (that many rows high): written by a
    /// band's fill, read by the head's reader.
    typealias BandAccess = (_ rows: Range<Int>, _ band: Activation<Float>) -> Void

    private let steps: [Step]

    /// With `quantization`, its tensors are 8-bit and the convolutions that read them too.
    init(
        window: Size, weights: [String: LayerWeights], quantization: Quantization?, workspace: Workspace,
        context: ComputeContext
    ) throws(OneDNNError) {
        // A banded slot's activation is as high as the slot, not the level.
        func activation<Value>(_ tensor: FusionSchedule.Tensor, _: Value.Type) -> Activation<Value> {
            let size = levelSize(window, tensor.level)
            return Activation(
                pointer: workspace.buffer(tensor.slot).assumingMemoryBound(to: Value.self),
                channels: tensor.channels, width: size.width,
                height: tensor.slot.isBanded ? min(size.height, FusionSchedule.bandSlotRows) : size.height)
        }
        func scale(_ tensor: FusionSchedule.Tensor) -> Float? { quantization?.scales[tensor.name] }
        func memory(_ tensor: FusionSchedule.Tensor) throws(OneDNNError) -> Memory {
            let size = levelSize(window, tensor.level)
            let descriptor = try activationDescriptor(
                channels: tensor.channels, height: size.height, width: size.width, bytes: scale(tensor) != nil)
            return try Memory(descriptor, borrowing: workspace.buffer(tensor.slot), in: context)
        }
        var steps: [Step] = []
        // Full-detail convolutions collected until one leaves the bands, and what fills their first source.
        var chain: [BandedConvolutions.Layer] = [], chainFill: BandAccess?
        func endChain() throws(OneDNNError) {
            guard !chain.isEmpty else { return }
            let height = levelSize(window, 0).height
            steps.append(.banded(try BandedConvolutions(chain, levelHeight: height, in: context), fill: chainFill))
            (chain, chainFill) = ([], nil)
        }
        for operation in FusionSchedule.operations {
            switch operation {
            case let .averagePooling(source, into: destination):
                if scale(source) == nil, let step = scale(destination) {
                    let (fine, coarse) = (activation(source, Float.self), activation(destination, UInt8.self))
                    steps.append(.pass { averagePoolingQuantizing(fine, into: coarse, scale: step) })
                } else {
                    steps.append(.primitive(try makeAveragePooling(source: memory(source), destination: memory(destination), in: context)))
                }
            case let .convolution(layer, source, into: destination) where source.slot.isBanded:
                precondition(scale(source) == nil && scale(destination) == nil, "the full-detail level is in floats")
                chain.append(
                    BandedConvolutions.Layer(
                        weights: weights[layer.name]!, source: activation(source, Float.self),
                        destination: activation(destination, Float.self), destinationIsBanded: destination.slot.isBanded))
                if !destination.slot.isBanded { try endChain() }
            case let .convolution(layer, source, into: destination):
                steps.append(
                    .primitive(
                        try makeConvolution(
                            weights[layer.name]!, source: memory(source), destination: memory(destination),
                            scales: scale(source).map { ConvolutionScales(source: $0, destination: scale(destination)) },
                            in: context)))
            case let .upsampleConcatenating(coarse, skip, into: joined) where joined.slot.isBanded:
                let tensors = (activation(coarse, Float.self), activation(skip, Float.self))
                chainFill = { rows, band in upsampleConcatenating(coarse: tensors.0, skip: tensors.1, rows: rows, into: band) }
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
        try endChain()  // the head's
        precondition(
            steps.filter { if case .banded(_, nil) = $0 { true } else { false } }.count == 1,
            "the network's input is read by one chain of full-detail convolutions")
        self.steps = steps
    }

    /// The oneDNN implementation of each convolution and pooling, in execution order.
    var implementations: [String] {
        steps.flatMap { step -> [String] in
            switch step {
            case let .primitive(primitive): [primitive.implementation]
            case let .banded(convolutions, _): convolutions.implementations
            case .pass: []
            }
        }
    }

    /// Runs the network: `writeInput(rows, band)` writes the input's rows `rows` (of the
    /// full-detail level) into `band`, all of them before `inputWritten()` is called;
    /// `readOutput(rows, band)` is given the head's output for those rows, in a band that is
    /// overwritten after it returns.
    func run(
        in context: ComputeContext, writeInput: BandAccess, inputWritten: () -> Void, readOutput: BandAccess
    ) throws(OneDNNError) {
        for step in steps {
            switch step {
            case let .primitive(primitive):
                try primitive.execute(in: context)
            case let .pass(body):
                try context.wait()
                body()
            case let .banded(convolutions, fill?):
                try convolutions.run(in: context, fill: fill, read: readOutput)
            case let .banded(convolutions, nil):
                try convolutions.run(in: context, fill: writeInput, read: readOutput)
                inputWritten()
            }
        }
        try context.wait()
    }
}

/// 3×3 convolutions of the full-detail level, each reading the one before, run a band of rows at
/// a time so that only the last one's destination may be whole: for each band of `bandRows`
/// rows of the last destination, the first source's rows that the chain reads (one more on each
/// side per convolution, where the level has them; zero padding at its edges) are written into
/// its band slot, and each convolution computes its rows from the band before. Bands differ only
/// in where their rows start, the first and last in their padding, so a few primitives serve them
/// all, a whole destination pointed at each band's rows in turn. Computes what whole
/// convolutions would, for a few rows more at each band's edges.
final class BandedConvolutions {
    struct Layer {
        var weights: LayerWeights
        /// Band slots (as high as the slot), except a last destination that is not banded, which
        /// is the level's whole height.
        var source: Activation<Float>
        var destination: Activation<Float>
        var destinationIsBanded: Bool
    }

    private struct Variant {
        var primitive: Primitive
        var destination: Memory
    }

    private struct Band {
        /// The last destination's rows, and the first source's.
        var rows: Range<Int>
        var sourceRows: Range<Int>
        /// Per convolution, its variant and, for a whole destination, where its rows begin.
        var passes: [(variant: Int, destination: UnsafeMutableRawPointer?)]
    }

    private let layers: [Layer]
    private let variants: [Variant]
    private let bands: [Band]
    /// The variant of each convolution in the middle band: one inside the level where it has
    /// three bands or more.
    private let typical: [Int]

    /// `levelHeight`: the rows of the level, which the last destination holds when it is whole.
    init(_ layers: [Layer], levelHeight height: Int, in context: ComputeContext) throws(OneDNNError) {
        precondition(height > 0 && layers.dropLast().allSatisfy(\.destinationIsBanded))
        func grown(_ rows: Range<Int>) -> Range<Int> { max(rows.lowerBound - 1, 0)..<min(rows.upperBound + 1, height) }
        var variants: [Variant] = [], known: [[Int]: Int] = [:], bands: [Band] = []
        for start in stride(from: 0, to: height, by: FusionSchedule.bandRows) {
            let rows = start..<min(start + FusionSchedule.bandRows, height)
            // Each convolution's rows, from the last back: one more on each side per convolution after it.
            var computed = [rows]
            for _ in layers.dropLast() { computed.insert(grown(computed[0]), at: 0) }
            precondition(grown(computed[0]).count <= layers[0].source.height, "a band outgrows its slot")
            var passes: [(variant: Int, destination: UnsafeMutableRawPointer?)] = []
            for (index, (layer, output)) in zip(layers, computed).enumerated() {
                let padding = (top: output.lowerBound == 0 ? 1 : 0, bottom: output.upperBound == height ? 1 : 0)
                let shape = [index, output.count, padding.top, padding.bottom]
                if known[shape] == nil {
                    known[shape] = variants.count
                    variants.append(try Self.variant(layer, rows: output.count, padding: padding, in: context))
                }
                let whole = layer.destinationIsBanded ? nil : UnsafeMutableRawPointer(layer.destination.row(output.lowerBound))
                passes.append((known[shape]!, whole))
            }
            bands.append(Band(rows: rows, sourceRows: grown(computed[0]), passes: passes))
        }
        let middle = bands[bands.count / 2]
        (self.layers, self.variants, self.bands, typical) = (layers, variants, bands, middle.passes.map(\.variant))
    }

    /// A convolution computing `rows` rows from the rows its band slot holds for them.
    private static func variant(
        _ layer: Layer, rows: Int, padding: (top: Int, bottom: Int), in context: ComputeContext
    ) throws(OneDNNError) -> Variant {
        let (source, destination) = (layer.source, layer.destination)
        let input = try Memory(
            activationDescriptor(channels: source.channels, height: rows + 2 - padding.top - padding.bottom, width: source.width),
            borrowing: source.pointer, in: context)
        let output = try Memory(
            activationDescriptor(channels: destination.channels, height: rows, width: destination.width),
            borrowing: destination.pointer, in: context)
        let primitive = try makeConvolution(layer.weights, source: input, destination: output, padding: padding, in: context)
        return Variant(primitive: primitive, destination: output)
    }

    /// The implementation oneDNN chose for each convolution, inside the level.
    var implementations: [String] { typical.map { variants[$0].primitive.implementation } }

    /// Runs every band: `fill` writes its first source rows, and `read` is given the last
    /// destination's rows when that is a band slot.
    func run(
        in context: ComputeContext, fill: TilePlan.BandAccess, read: TilePlan.BandAccess
    ) throws(OneDNNError) {
        let (first, last) = (layers[0].source, layers[layers.count - 1])
        for band in bands {
            try context.wait()  // the slots are free again
            fill(band.sourceRows, first.firstRows(band.sourceRows.count))
            for pass in band.passes {
                let variant = variants[pass.variant]
                if let whole = pass.destination { try variant.destination.point(at: whole) }
                try variant.primitive.execute(in: context)
            }
            if last.destinationIsBanded {
                try context.wait()
                read(band.rows, last.destination.firstRows(band.rows.count))
            }
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
    /// Each tile's window of `Y_src`, where it is made as it is read (`makesSource`).
    private let sourceWindow: UnsafeMutableBufferPointer<Float>?

    init(largestWindow: Size, makesSource: Bool, weights: [String: LayerWeights], quantization: Quantization?) throws(OneDNNError) {
        context = try ComputeContext()
        workspace = Workspace(largestWindow: largestWindow, quantization: quantization)
        (self.weights, self.quantization) = (weights, quantization)
        sourceWindow = makesSource ? .allocate(capacity: largestWindow.pixelCount) : nil
    }

    deinit { sourceWindow?.deallocate() }

    /// `Y_src` where `tile` reads it: the held plane, or the tile's window of it (inside the
    /// image) made now.
    private func source(for tile: Tile, of frame: FrameBuffers) -> PlaneRegion {
        if let held = frame.heldSource { return PlaneRegion(held.baseAddress!, rowLength: frame.size.width) }
        let window = tile.window
        let columns = window.x..<min(window.x + window.width, frame.size.width)
        let rows = window.y..<min(window.y + window.height, frame.size.height)
        frame.source.write(rows: rows, columns: columns, into: sourceWindow!.baseAddress!, rowLength: columns.count)
        return PlaneRegion(sourceWindow!.baseAddress!, origin: (window.x, window.y), rowLength: columns.count)
    }

    /// Runs the network on `tile` of `frame`, writing the tile's output pixels inside the image
    /// (Y_src + residual, and `base`'s detail) into `pixels`, a row of the tile's inside width
    /// after another. `inputRead()` is called once the tile has read all it reads of the frame's
    /// reference: its window for the network, and `base`'s reach around its pixels, read first.
    func run(
        _ tile: Tile, on frame: FrameBuffers, adding base: ClassicalFusion?, into pixels: OutputBuffer,
        inputRead: () -> Void
    ) throws(OneDNNError) {
        let plan = try self.plan(for: tile.window.size)
        let block = FusionArchitecture.block
        let rect = tile.outputInside(frame.size)
        let inside = (columns: rect.x..<rect.x + rect.width, rows: rect.y..<rect.y + rect.height)
        let source = self.source(for: tile, of: frame)
        let reference = PlaneRegion(frame.reference.baseAddress!, rowLength: frame.size.width)
        if let base {
            base.addDetail(
                source: source, reference: reference, occlusion: frame.occlusion, size: frame.size,
                columns: inside.columns, rows: inside.rows, to: pixels.value.baseAddress!, rowLength: inside.columns.count,
                startingAtZero: true)
        } else {
            pixels.value.update(repeating: 0)
        }
        try plan.run(
            in: context,
            writeInput: { rows, band in
                var window = tile.window
                (window.y, window.height) = (window.y + rows.lowerBound * block, rows.count * block)
                spaceToDepth([source, reference], frame.occlusion, size: frame.size, window: window, into: band)
            },
            inputWritten: inputRead,
            readOutput: { rows, band in
                let top = tile.window.y + rows.lowerBound * block
                let pixelRows = inside.rows.clamped(to: top..<top + rows.count * block)
                guard !pixelRows.isEmpty else { return }
                depthToSpaceAddingSource(
                    band, origin: (tile.window.x, top), source: source,
                    rect: PixelRect(x: inside.columns.lowerBound, y: pixelRows.lowerBound, width: inside.columns.count, height: pixelRows.count),
                    to: pixels.value.baseAddress! + (pixelRows.lowerBound - inside.rows.lowerBound) * inside.columns.count,
                    rowLength: inside.columns.count)
            })
    }

    private func plan(for window: Size) throws(OneDNNError) -> TilePlan {
        if let plan = plans[window] { return plan }
        let plan = try TilePlan(window: window, weights: weights, quantization: quantization, workspace: workspace, context: context)
        plans[window] = plan
        return plan
    }
}
