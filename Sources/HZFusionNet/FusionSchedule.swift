/// The network as a list of operations on named buffers, derived from `FusionArchitecture`.
///
/// Each coarse level has three buffers: `skip`, the encoder's output that the decoder reads
/// back, and `ping` and `pong`, which the level's other operations alternate between; a level's
/// input (pooled, or the decoder's concatenation) goes into `ping`. The full-detail level, the
/// largest by far, has `skip` and `pong` for its 16-channel tensors, and `band` for its two wide
/// ones (the 48-channel input and the decoder's 40-channel concatenation), which exist only a
/// band of rows at a time: the convolution that reads each runs band by band (`bandRows`). The
/// head's output goes into `skip` once the decoder's last concatenation has read it. So a tile
/// needs about 21 bytes per pixel in floats, 12 with 8-bit coarse levels (8 of them the
/// full-detail level's), against 33 and 24 with the full-detail level's inputs whole.
enum FusionSchedule {
    struct Slot: Hashable {
        enum Role: Hashable { case ping, pong, skip, band }
        var role: Role
        var level: Int
    }

    /// A tensor: its name, where it lives and how many channels it has; its height and width
    /// are the level's (the tile's, divided by 4·2^level). Names: `input`, `output`, the layer
    /// that computes it, `pool<level>` for a pooling's output, `join-<layer>` for what a decoder
    /// layer reads.
    struct Tensor: Hashable {
        var name: String
        var slot: Slot
        var channels: Int

        init(_ name: String, _ role: Slot.Role, level: Int, channels: Int) {
            self.name = name
            slot = Slot(role: role, level: level)
            self.channels = channels
        }

        var level: Int { slot.level }
    }

    enum Operation {
        case averagePooling(Tensor, into: Tensor)
        case convolution(FusionArchitecture.Layer, Tensor, into: Tensor)
        /// Nearest ×2 upsampling of `coarse`, then [upsampled, skip] along channels.
        case upsampleConcatenating(coarse: Tensor, skip: Tensor, into: Tensor)
    }

    typealias Architecture = FusionArchitecture

    /// Rows of the full-detail level (cells of 4×4 pixels) that a banded convolution computes at
    /// once: the band slot holds them and the row above and below that its 3×3 kernel reads.
    static let bandRows = 32

    /// The space-to-depth input: Y_src, Ỹ_ref and M_occ as 48 channels at 1/4 resolution.
    static let input = Tensor("input", .band, level: 0, channels: Architecture.encoder[0][0].inputChannels)
    /// The head's 16 channels at 1/4 resolution, one residual per full-resolution pixel, over the
    /// encoder's full-detail output, which the decoder has read by then.
    static let output = Tensor("output", .skip, level: 0, channels: Architecture.head.outputChannels)

    static let operations: [Operation] = {
        var operations: [Operation] = [], skips: [Tensor] = []
        var current = input
        for (level, convolutions) in Architecture.encoder.enumerated() {
            if level > 0 {
                let pooled = Tensor("pool\(level)", .ping, level: level, channels: current.channels)
                operations.append(.averagePooling(current, into: pooled))
                current = pooled
            }
            for (index, layer) in convolutions.enumerated() {
                let role: Slot.Role = index == convolutions.count - 1 ? .skip : current.slot.role == .ping ? .pong : .ping
                let next = Tensor(layer.name, role, level: level, channels: layer.outputChannels)
                operations.append(.convolution(layer, current, into: next))
                current = next
            }
            skips.append(current)
        }
        for (layer, level) in zip(Architecture.decoder, (0..<Architecture.encoder.count - 1).reversed()) {
            let joined = Tensor("join-\(layer.name)", level == 0 ? .band : .ping, level: level, channels: layer.inputChannels)
            operations.append(.upsampleConcatenating(coarse: current, skip: skips[level], into: joined))
            current = Tensor(layer.name, .pong, level: level, channels: layer.outputChannels)
            operations.append(.convolution(layer, joined, into: current))
        }
        operations.append(.convolution(Architecture.head, current, into: output))
        return operations
    }()

    /// The most bytes per cell each slot ever holds, with `quantization`'s tensors in 8 bits.
    static func slotBytesPerCell(_ quantization: Quantization?) -> [Slot: Int] {
        var bytes: [Slot: Int] = [:]
        for operation in operations {
            for tensor in operation.tensors {
                let size = tensor.channels * (quantization?.isQuantized(tensor) == true ? 1 : MemoryLayout<Float>.size)
                bytes[tensor.slot] = max(bytes[tensor.slot] ?? 0, size)
            }
        }
        return bytes
    }
}

extension FusionSchedule.Operation {
    var tensors: [FusionSchedule.Tensor] {
        switch self {
        case let .averagePooling(source, into: destination), let .convolution(_, source, into: destination):
            [source, destination]
        case let .upsampleConcatenating(coarse, skip, into: destination):
            [coarse, skip, destination]
        }
    }
}
