/// The network as a list of operations on named buffers, derived from `FusionArchitecture`.
///
/// Each level has three buffers: `skip`, the encoder's output that the decoder reads back, and
/// `ping` and `pong`, which the level's other operations alternate between. A level's input
/// (pooled, or the decoder's concatenation) goes into `ping`, so one tile needs about 33 bytes per
/// pixel instead of the 50 that a buffer per tensor would take.
enum FusionSchedule {
    struct Slot: Hashable {
        enum Role: Hashable { case ping, pong, skip }
        var role: Role
        var level: Int
    }

    /// A tensor: where it lives and how many channels it has; its height and width are the
    /// level's (the tile's, divided by 4·2^level).
    struct Tensor: Hashable {
        var slot: Slot
        var channels: Int

        init(_ role: Slot.Role, level: Int, channels: Int) {
            slot = Slot(role: role, level: level)
            self.channels = channels
        }
    }

    enum Operation {
        case averagePooling(Tensor, into: Tensor)
        case convolution(FusionArchitecture.Layer, Tensor, into: Tensor)
        /// Nearest ×2 upsampling of `coarse`, then [upsampled, skip] along channels.
        case upsampleConcatenating(coarse: Tensor, skip: Tensor, into: Tensor)
    }

    typealias Architecture = FusionArchitecture

    /// The space-to-depth input: Y_src, Ỹ_ref and M_occ as 48 channels at 1/4 resolution.
    static let input = Tensor(.ping, level: 0, channels: Architecture.encoder[0][0].inputChannels)
    /// The head's 16 channels at 1/4 resolution, one residual per full-resolution pixel.
    static let output = Tensor(.ping, level: 0, channels: Architecture.head.outputChannels)

    static let operations: [Operation] = {
        var operations: [Operation] = [], skips: [Tensor] = []
        var current = input
        for (level, convolutions) in Architecture.encoder.enumerated() {
            if level > 0 {
                let pooled = Tensor(.ping, level: level, channels: current.channels)
                operations.append(.averagePooling(current, into: pooled))
                current = pooled
            }
            for (index, layer) in convolutions.enumerated() {
                let role: Slot.Role = index == convolutions.count - 1 ? .skip : current.slot.role == .ping ? .pong : .ping
                let next = Tensor(role, level: level, channels: layer.outputChannels)
                operations.append(.convolution(layer, current, into: next))
                current = next
            }
            skips.append(current)
        }
        for (layer, level) in zip(Architecture.decoder, (0..<Architecture.encoder.count - 1).reversed()) {
            let joined = Tensor(.ping, level: level, channels: layer.inputChannels)
            operations.append(.upsampleConcatenating(coarse: current, skip: skips[level], into: joined))
            current = Tensor(.pong, level: level, channels: layer.outputChannels)
            operations.append(.convolution(layer, joined, into: current))
        }
        operations.append(.convolution(Architecture.head, current, into: output))
        return operations
    }()

    /// The most channels each slot ever holds.
    static let slotChannels: [Slot: Int] = {
        var channels: [Slot: Int] = [:]
        for operation in operations {
            for tensor in operation.tensors {
                channels[tensor.slot] = max(channels[tensor.slot] ?? 0, tensor.channels)
            }
        }
        return channels
    }()
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
