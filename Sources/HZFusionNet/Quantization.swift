import CDNNL
import Foundation

/// How the network's activations are stored: all in 32-bit floats, or the coarse levels in 8 bits.
public enum FusionPrecision: String, Sendable, CaseIterable {
    /// Every activation and weight in 32-bit floats: PyTorch's arithmetic, on any CPU.
    case float32
    /// The levels at 1/8 resolution and below in 8 bits (activations u8, weights s8 per output
    /// channel), the full-detail level in floats. On CPUs with VNNI, oneDNN's 8-bit convolutions
    /// run about four times as fast as its float ones; the full-detail level, whose activations
    /// carry the residual's fine steps, is where 8 bits would cost quality (over 1 dB in one
    /// held-out capture), and keeping it in floats costs under 0.02 dB anywhere.
    case int8

    /// Whether this CPU has the dot-product instructions (VNNI) 8-bit convolutions need to beat
    /// floats; without them oneDNN's 8-bit kernels also need a weight rescaling that costs range.
    public static var cpuRunsInt8Fast: Bool {
        let isa = dnnl_get_effective_cpu_isa().rawValue
        return isa & dnnl_cpu_isa_avx512_core_vnni.rawValue == dnnl_cpu_isa_avx512_core_vnni.rawValue
            || isa & dnnl_cpu_isa_avx2_vnni.rawValue == dnnl_cpu_isa_avx2_vnni.rawValue
    }
}

/// The 8-bit tensors of one run and the scale of each (the value of one step): derived from the
/// schedule and the weights file's activation ranges (`Training/calibrate.py`).
///
/// A tensor is 8-bit when it lives at level 1 (⅛ resolution) or coarser, except the decoder's
/// output that goes back up to level 0. Tensors that one operation treats as one share a scale,
/// the larger of their ranges: a concatenation's two halves (one convolution reads them with one
/// scale), and a pooling's input and output (an average of steps is in steps).
struct Quantization {
    /// Scale of each 8-bit tensor, by `FusionSchedule.Tensor.name`; the others are floats.
    let scales: [String: Float]

    /// The 8-bit tensors' names in schedule order, and which share a scale with which.
    private static let layout: (names: [String], shared: [(String, String)]) = {
        var names: [String] = [], shared: [(String, String)] = []
        for operation in FusionSchedule.operations {
            switch operation {
            case let .averagePooling(source, into: pooled):
                names.append(pooled.name)
                if source.level > 0 { shared.append((source.name, pooled.name)) }
            case let .convolution(_, _, into: output) where output.level > 0:
                names.append(output.name)
            case let .upsampleConcatenating(coarse, skip, into: joined) where joined.level > 0:
                names.append(joined.name)
                shared += [(coarse.name, joined.name), (skip.name, joined.name)]
            case let .upsampleConcatenating(coarse, _, into: _):
                names.removeAll { $0 == coarse.name }  // goes back up to the float level
            default: break
            }
        }
        return (names, shared)
    }()

    /// The ranges a weights file must carry for 8-bit runs: of every 8-bit tensor that an
    /// operation computes from floats or with new weights (the others take their inputs' scale).
    static let requiredRanges: Set<String> = Set(layout.names).subtracting(layout.shared.map(\.1))

    /// `ranges`: the weights file's `activation_ranges`, which must hold `requiredRanges`.
    init(ranges: [String: Float]) {
        var parent: [String: String] = [:]
        func root(_ name: String) -> String { parent[name].map(root) ?? name }
        for (a, b) in Self.layout.shared where root(a) != root(b) { parent[root(a)] = root(b) }
        var groupRange: [String: Float] = [:]
        for name in Self.layout.names {
            groupRange[root(name)] = max(groupRange[root(name)] ?? 0, ranges[name] ?? 0)
        }
        scales = Dictionary(uniqueKeysWithValues: Self.layout.names.map { ($0, max(groupRange[root($0)]!, .leastNormalMagnitude) / 255) })
    }

    func isQuantized(_ tensor: FusionSchedule.Tensor) -> Bool { scales[tensor.name] != nil }
}
