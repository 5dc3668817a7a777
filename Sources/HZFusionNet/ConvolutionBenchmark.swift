/// oneDNN's speed on one 3×3 convolution (stride 1, zero padding 1, bias, ReLU) of `channels` to
/// `channels` on a `side` × `side` activation: the ceiling the network's GFLOP/s compares with.
public struct ConvolutionSpeed: Sendable, CustomStringConvertible {
    public let channels: Int
    public let side: Int
    public let gflops: Double
    /// oneDNN's implementation of it on this CPU.
    public let implementation: String

    public var description: String {
        "\(channels)→\(channels) 3×3 at \(side)²: \(Int(gflops.rounded())) GFLOP/s"
    }

    /// The widths and sizes this network's layers have.
    public static let cases = [(channels: 32, side: 1024), (channels: 16, side: 2048), (channels: 64, side: 512)]

    /// Times each case (the fastest of `runs` + 1 runs, the first of which also pays for page
    /// faults) and returns the fastest case, for `hzsr bench` to print next to the network's own
    /// GFLOP/s.
    public static func best(runs: Int = 5) throws(OneDNNError) -> ConvolutionSpeed {
        let context = try ComputeContext()
        var best: ConvolutionSpeed?
        for (channels, side) in cases {
            let speed = try measure(channels: channels, side: side, runs: runs, in: context)
            if speed.gflops > best?.gflops ?? 0 { best = speed }
        }
        return best!
    }

    private static func measure(channels: Int, side: Int, runs: Int, in context: ComputeContext) throws(OneDNNError) -> ConvolutionSpeed {
        let layer = FusionArchitecture.Layer("benchmark", channels, channels)
        let weights = LayerWeights(
            layer: layer, weights: [Float](repeating: 0.01, count: 9 * channels * channels),
            bias: [Float](repeating: 0, count: channels))
        let descriptor = try activationDescriptor(channels: channels, height: side, width: side)
        let source = try Memory(descriptor, in: context)
        source.data.initializeMemory(as: Float.self, repeating: 0.5, count: side * side * channels)
        let destination = try Memory(descriptor, in: context)
        let convolution = try makeConvolution(weights, source: source, destination: destination, in: context)
        let clock = ContinuousClock()
        var fastest = Duration.seconds(Int64.max)
        for _ in 0...runs {
            let start = clock.now
            try convolution.execute(in: context)
            try context.wait()
            fastest = min(fastest, clock.now - start)
        }
        let seconds = fastest.milliseconds / 1000
        let flops = Double(2 * 9 * channels * channels * side * side)
        return ConvolutionSpeed(
            channels: channels, side: side, gflops: flops / seconds / 1e9, implementation: convolution.implementation)
    }
}
