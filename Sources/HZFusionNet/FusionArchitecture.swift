import HybridZoom

/// The fusion network's layers, mirrored from `Training/hzsr_fusion/model.py` (the contract
/// between training and inference: names, widths and order must match it).
///
/// Input: Y_src, Ỹ_ref and M_occ, 4×4 space-to-depth → 48 channels at 1/4 resolution. Encoder
/// level k runs at 1/(4·2^k), each level after the first starting with a 2×2 average pooling.
/// Decoder level k upsamples the level below by nearest ×2 and concatenates [upsampled, encoder
/// skip] before its convolution. Every convolution is 3×3, zero padding 1, with bias. The head's
/// 16 channels become one residual per pixel by depth-to-space ×4; the output is Y_src + residual.
public enum FusionArchitecture {
    public struct Layer: Sendable, Equatable {
        public let name: String
        public let inputChannels: Int
        public let outputChannels: Int
        public let relu: Bool

        init(_ name: String, _ inputChannels: Int, _ outputChannels: Int, relu: Bool = true) {
            (self.name, self.inputChannels, self.outputChannels, self.relu) = (name, inputChannels, outputChannels, relu)
        }

        /// The state_dict keys of its weights (OIHW) and bias.
        public var weightKey: String { "convs.\(name).weight" }
        public var biasKey: String { "convs.\(name).bias" }
        public var weightShape: [Int] { [outputChannels, inputChannels, 3, 3] }
    }

    /// `ARCHITECTURE` in model.py; a weights file that names another is refused.
    public static let name = "hzsr-fusion-unet-1"
    /// Space-to-depth factor at the input, depth-to-space at the output.
    public static let block = 4
    /// Input planes: Y_src, Ỹ_ref, M_occ.
    public static let inputPlanes = 3
    /// Encoder levels, from full detail (1/4 resolution) down to 1/64.
    public static let encoder: [[Layer]] = [
        [Layer("enc0", inputPlanes * block * block, 16)],
        [Layer("enc1", 16, 32)],
        [Layer("enc2a", 32, 48), Layer("enc2b", 48, 48)],
        [Layer("enc3a", 48, 64), Layer("enc3b", 64, 64)],
        [Layer("enc4", 64, 64)],
    ]
    /// Decoder levels from the bottom up: `decoder[0]` runs at level 3, `decoder[3]` at level 0.
    public static let decoder: [Layer] = [
        Layer("dec3", 64 + 64, 64),
        Layer("dec2", 64 + 48, 48),
        Layer("dec1", 48 + 32, 24),
        Layer("dec0", 24 + 16, 16),
    ]
    public static let head = Layer("head", 16, block * block, relu: false)

    /// Every convolution in execution order.
    public static var layers: [Layer] { encoder.flatMap { $0 } + decoder + [head] }

    /// Image sides must be multiples of this (64) for the pooling to divide evenly: `fuse` pads.
    public static let multiple = block << (encoder.count - 1)

    /// How far, in full-resolution pixels, the zero padding at a tile's cut edge reaches into
    /// its output (256 px): there the untiled run sees image, so the values are wrong, and each
    /// layer spreads what is wrong by one cell of its level. Cuts lie on the 64-pixel grid, so
    /// pooling and upsampling cells never straddle one. This is less than model.py's
    /// `receptive_radius()` (299 px): that is how far one input pixel can reach from anywhere
    /// inside its 4×4 cell and pooling windows, while a cut sits on their edges.
    public static let cutReach: Int = {
        var reach = 0, stride = block, skipReach: [Int] = []
        for (level, convs) in encoder.enumerated() {
            if level > 0 {
                stride *= 2
                reach = (reach + stride - 1) / stride * stride  // a pooled cell with one wrong input is wrong
            }
            reach += stride * convs.count
            skipReach.append(reach)
        }
        for level in (0..<decoder.count).reversed() {
            stride /= 2
            reach = max(reach, skipReach[level]) + stride  // nearest upsampling keeps the reach
        }
        return reach + stride  // head
    }()

    /// Context around a tile's output: the cut reach rounded up to a multiple of 64 (256 px), so
    /// that windows stay on the pooling grid and tiling changes no output pixel.
    public static let halo = (cutReach + multiple - 1) / multiple * multiple

    /// Floating-point operations per output pixel (a multiply–add counts 2): 3492.
    public static let flopsPerPixel: Double = {
        var total = 0.0, area = 1.0 / Double(block * block)
        func cost(_ layer: Layer) -> Double { Double(2 * 9 * layer.inputChannels * layer.outputChannels) * area }
        for (level, convs) in encoder.enumerated() {
            if level > 0 { area /= 4 }
            total += convs.map(cost).reduce(0, +)
        }
        for layer in decoder {
            area *= 4
            total += cost(layer)
        }
        return total + cost(head)
    }()

    /// The side `length` padded up to a multiple of 64, as `fuse` pads it.
    public static func padded(_ length: Int) -> Int { (length + multiple - 1) / multiple * multiple }

    /// FLOPs of one untiled run on an image of `size` (padded to multiples of 64, as PyTorch's
    /// `fuse()` runs it); tiling halos are overhead, not counted.
    public static func flops(for size: Size) -> Double {
        flopsPerPixel * Double(padded(size.width) * padded(size.height))
    }
}
