/// The network as a list of operations on named buffers, derived from `FusionArchitecture`.
///
/// Each level has three buffers: `skip`, the encoder's output that the decoder reads back, and
/// `ping` and `pong`, which the level's other operations alternate between. A level's input
/// (pooled, or the decoder's concatenation) goes into `ping`. At the full-detail level, the
/// largest by far, only `skip` is whole: `ping` and `pong` hold a band of rows
/// (`bandSlotRows`), and the convolutions between them run band by band, from the input to the
/// encoder's skip and from the decoder's last concatenation to the head's output. So one tile needs about 17 bytes
/// per pixel in floats, 8 with 8-bit coarse levels (4 of them the full-detail skip), where whole
/// buffers took 33 and 24, and a buffer per tensor 50.
enum FusionSchedule {
    struct Slot: Hashable {
        enum Role: Hashable { case ping, pong, skip }
        var role: Role
        var level: Int

        /// Whether it holds a band of rows rather than the level's whole height.
        var isBanded: Bool { level == 0 && role != .skip }
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

    /// Rows of the full-detail level (cells of 4×4 pixels) that a band of its convolutions ends
    /// in, and how many a banded slot holds: each 3×3 convolution of a chain reads a row more on
    /// each side than it writes (the decoder's concatenation, two convolutions before the head's
    /// band, two rows).
    static let bandRows = 32
    static let bandSlotRows: Int = {
        var longest = 0, chain = 0
        for operation in operations {
            if case let .convolution(_, source, _) = operation, source.slot.isBanded {
                chain += 1
                longest = max(longest, chain)
            } else {
                chain = 0
            }
        }
        return bandRows + 2 * longest
    }()

    /// The space-to-depth input: Y_src, Ỹ_ref and M_occ as 48 channels at 1/4 resolution.
    static let input = Tensor("input", .ping, level: 0, channels: Architecture.encoder[0][0].inputChannels)
    /// The head's 16 channels at 1/4 resolution, one residual per full-resolution pixel.
    static let output = Tensor("output", .ping, level: 0, channels: Architecture.head.outputChannels)

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
            let joined = Tensor("join-\(layer.name)", .ping, level: level, channels: layer.inputChannels)
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
