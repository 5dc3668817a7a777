import CDNNL

/// A oneDNN call that failed: which call, and oneDNN's status.
public struct OneDNNError: Error, CustomStringConvertible, Equatable {
    public var call: String
    public var status: String

    public var description: String { "oneDNN \(call) failed: \(status)" }
}

/// Throws unless `status` is success: every oneDNN call goes through here.
func check(_ status: dnnl_status_t, _ call: String) throws(OneDNNError) {
    guard status != dnnl_success else { return }
    throw OneDNNError(call: call, status: String(cString: dnnl_status2str(status)))
}

/// A CPU engine and the stream primitives run in. oneDNN runs each primitive on its OpenMP
/// threads (all cores unless OMP_NUM_THREADS says otherwise).
final class ComputeContext {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t

    init() throws(OneDNNError) {
        var engine: dnnl_engine_t?
        try check(dnnl_engine_create(&engine, dnnl_cpu, 0), "dnnl_engine_create")
        var stream: dnnl_stream_t?
        let status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
        guard status == dnnl_success, let engine, let stream else {
            dnnl_engine_destroy(engine)
            try check(status, "dnnl_stream_create")
            throw OneDNNError(call: "dnnl_stream_create", status: "no stream")
        }
        (self.engine, self.stream) = (engine, stream)
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    /// Waits for everything submitted, before Swift code reads what primitives wrote.
    func wait() throws(OneDNNError) {
        try check(dnnl_stream_wait(stream), "dnnl_stream_wait")
    }
}

/// A tensor descriptor in oneDNN's NCHW dimension order with the given format tag.
func tensorDescriptor(
    _ dimensions: [Int], _ format: dnnl_format_tag_t, _ type: dnnl_data_type_t = dnnl_f32
) throws(OneDNNError) -> dnnl_memory_desc_t {
    var descriptor = dnnl_memory_desc_t()
    try check(
        dnnl_memory_desc_init_by_tag(&descriptor, Int32(dimensions.count), dimensions.map(Int64.init), type, format),
        "dnnl_memory_desc_init_by_tag")
    return descriptor
}

/// An activation of one image in channels-last order (NHWC), in floats or unsigned bytes: the
/// layout oneDNN's `brgconv` convolutions choose by themselves for every layer of this network.
func activationDescriptor(channels: Int, height: Int, width: Int, bytes: Bool = false) throws(OneDNNError) -> dnnl_memory_desc_t {
    try tensorDescriptor([1, channels, height, width], dnnl_nhwc, bytes ? dnnl_u8 : dnnl_f32)
}

/// A oneDNN memory object over a buffer that is either borrowed (a workspace slot, which outlives
/// it) or its own (allocated here, 64-byte aligned, freed with it).
final class Memory {
    let handle: dnnl_memory_t
    let descriptor: dnnl_memory_desc_t
    private(set) var data: UnsafeMutableRawPointer
    private let ownsData: Bool

    init(_ descriptor: dnnl_memory_desc_t, borrowing data: UnsafeMutableRawPointer, in context: ComputeContext) throws(OneDNNError) {
        var descriptor = descriptor
        var handle: dnnl_memory_t?
        try check(dnnl_memory_create(&handle, &descriptor, context.engine, data), "dnnl_memory_create")
        guard let handle else { throw OneDNNError(call: "dnnl_memory_create", status: "no memory") }
        (self.handle, self.descriptor, self.data, ownsData) = (handle, descriptor, data, false)
    }

    init(_ descriptor: dnnl_memory_desc_t, in context: ComputeContext) throws(OneDNNError) {
        var descriptor = descriptor
        let data = UnsafeMutableRawPointer.allocate(byteCount: max(dnnl_memory_desc_get_size(&descriptor), 1), alignment: 64)
        var handle: dnnl_memory_t?
        let status = dnnl_memory_create(&handle, &descriptor, context.engine, data)
        guard status == dnnl_success, let handle else {
            data.deallocate()
            try check(status, "dnnl_memory_create")
            throw OneDNNError(call: "dnnl_memory_create", status: "no memory")
        }
        (self.handle, self.descriptor, self.data, ownsData) = (handle, descriptor, data, true)
    }

    /// Its own copy of `values`, which must fill `descriptor` (a plain layout such as `oihw`).
    convenience init<Value: BitwiseCopyable>(
        _ descriptor: dnnl_memory_desc_t, copying values: [Value], in context: ComputeContext
    ) throws(OneDNNError) {
        try self.init(descriptor, in: context)
        values.withUnsafeBytes { data.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    deinit {
        dnnl_memory_destroy(handle)
        if ownsData { data.deallocate() }
    }

    /// Points a borrowing memory at other data of its size: the primitives that use it read or
    /// write there from their next run.
    func point(at other: UnsafeMutableRawPointer) throws(OneDNNError) {
        precondition(!ownsData, "only a borrowing memory can be pointed elsewhere")
        try check(dnnl_memory_set_data_handle(handle, other), "dnnl_memory_set_data_handle")
        data = other
    }
}

/// A primitive together with the memories it runs on, which it keeps alive.
final class Primitive {
    private let primitive: dnnl_primitive_t
    private let memories: [Memory]
    private let arguments: [dnnl_exec_arg_t]
    /// The implementation oneDNN chose for this CPU, as it names it (`brgconv:avx512_core`, `jit:avx2`…).
    let implementation: String

    /// `descriptor` is the primitive descriptor; `arguments` pairs DNNL_ARG_* with memories.
    init(_ descriptor: dnnl_primitive_desc_t, arguments: [(Int32, Memory)]) throws(OneDNNError) {
        var primitive: dnnl_primitive_t?
        try check(dnnl_primitive_create(&primitive, descriptor), "dnnl_primitive_create")
        guard let primitive else { throw OneDNNError(call: "dnnl_primitive_create", status: "no primitive") }
        self.primitive = primitive
        var name: UnsafePointer<CChar>?
        let status = dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &name)
        implementation = status == dnnl_success ? name.map { String(cString: $0) } ?? "?" : "?"
        memories = arguments.map(\.1)
        self.arguments = arguments.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.handle) }
    }

    deinit { dnnl_primitive_destroy(primitive) }

    func execute(in context: ComputeContext) throws(OneDNNError) {
        try check(dnnl_primitive_execute(primitive, context.stream, Int32(arguments.count), arguments), "dnnl_primitive_execute")
    }
}

/// Creates a primitive descriptor for the operation descriptor `operation`, lends it to `body`,
/// then destroys it (a primitive made from it keeps what it needs).
func withPrimitiveDescriptor<T>(
    _ operation: UnsafeRawPointer, attributes: dnnl_primitive_attr_t? = nil, in context: ComputeContext,
    _ body: (dnnl_primitive_desc_t) throws(OneDNNError) -> T
) throws(OneDNNError) -> T {
    var descriptor: dnnl_primitive_desc_t?
    try check(dnnl_primitive_desc_create(&descriptor, operation, attributes, context.engine, nil), "dnnl_primitive_desc_create")
    guard let descriptor else { throw OneDNNError(call: "dnnl_primitive_desc_create", status: "no descriptor") }
    defer { dnnl_primitive_desc_destroy(descriptor) }
    return try body(descriptor)
}

/// Primitive attributes lent to `body`: a ReLU on the result (an eltwise post-op fused into the
/// convolution, so activations are not read twice) and per-output-channel scales (8-bit runs).
func withAttributes<T>(
    relu: Bool, outputScales: [Float]?, _ body: (dnnl_primitive_attr_t) throws(OneDNNError) -> T
) throws(OneDNNError) -> T {
    var attributes: dnnl_primitive_attr_t?
    try check(dnnl_primitive_attr_create(&attributes), "dnnl_primitive_attr_create")
    defer { dnnl_primitive_attr_destroy(attributes) }
    guard let attributes else { throw OneDNNError(call: "dnnl_primitive_attr_create", status: "no attributes") }
    if relu {
        var postOps: dnnl_post_ops_t?
        try check(dnnl_post_ops_create(&postOps), "dnnl_post_ops_create")
        defer { dnnl_post_ops_destroy(postOps) }
        try check(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_relu, 0, 0), "dnnl_post_ops_append_eltwise")
        try check(dnnl_primitive_attr_set_post_ops(attributes, postOps), "dnnl_primitive_attr_set_post_ops")
    }
    if let outputScales {
        try check(
            dnnl_primitive_attr_set_output_scales(attributes, Int64(outputScales.count), 1 << 1, outputScales),
            "dnnl_primitive_attr_set_output_scales")
    }
    return try body(attributes)
}

/// The steps of a convolution's 8-bit source and destination (nil: a float destination).
struct ConvolutionScales {
    var source: Float
    var destination: Float?
}

/// A layer's weights in 8 bits, one scale per output channel (its largest weight is ±127), and
/// what oneDNN needs around them: the bias in the accumulator's units (oneDNN adds it before
/// scaling) and the scale from accumulator to destination, per output channel.
private struct QuantizedLayer {
    var weights: [Int8]
    var bias: [Float]
    var outputScales: [Float]

    init(_ layer: LayerWeights, _ scales: ConvolutionScales) {
        let perChannel = layer.weights.count / layer.layer.outputChannels
        var weights: [Int8] = [], bias: [Float] = [], outputScales: [Float] = []
        for channel in 0..<layer.layer.outputChannels {
            let kernel = layer.weights[channel * perChannel..<(channel + 1) * perChannel]
            // A kernel of zeros (a pruned channel), or of weights too small for a float step, is
            // zeros at any step: 1 keeps its bias finite in the accumulator's units.
            let largest = kernel.map(abs).max()!
            let step = largest >= 127 * .leastNormalMagnitude ? largest / 127 : 1
            weights += kernel.map { Int8(($0 / step).rounded()) }
            let accumulatorStep = scales.source * step
            bias.append(layer.bias[channel] / accumulatorStep)
            outputScales.append(accumulatorStep / (scales.destination ?? 1))
        }
        (self.weights, self.bias, self.outputScales) = (weights, bias, outputScales)
    }
}

/// A 3×3 convolution (stride 1, zero padding 1, bias, optional ReLU) from `source` to
/// `destination`, with the weights reordered once into the layout the implementation prefers.
/// With `scales`, the source is 8-bit and the weights are quantized (`QuantizedLayer`). Rows of
/// zero padding above and below are `padding` (a band of rows inside a level has none).
func makeConvolution(
    _ weights: LayerWeights, source: Memory, destination: Memory, scales: ConvolutionScales? = nil,
    padding: (top: Int, bottom: Int) = (1, 1), in context: ComputeContext
) throws(OneDNNError) -> Primitive {
    let layer = weights.layer
    let quantized = scales.map { QuantizedLayer(weights, $0) }
    var sourceDescriptor = source.descriptor, destinationDescriptor = destination.descriptor
    var anyWeights = try tensorDescriptor(layer.weightShape, dnnl_format_tag_any, quantized == nil ? dnnl_f32 : dnnl_s8)
    var biasDescriptor = try tensorDescriptor([layer.outputChannels], dnnl_x)
    var operation = dnnl_convolution_desc_t()
    try check(
        dnnl_convolution_forward_desc_init(
            &operation, dnnl_forward_inference, dnnl_convolution_direct,
            &sourceDescriptor, &anyWeights, &biasDescriptor, &destinationDescriptor,
            [1, 1], [Int64(padding.top), 1], [Int64(padding.bottom), 1]),
        "dnnl_convolution_forward_desc_init")
    return try withAttributes(relu: layer.relu, outputScales: quantized?.outputScales) { attributes throws(OneDNNError) in
        try withPrimitiveDescriptor(&operation, attributes: attributes, in: context) { descriptor throws(OneDNNError) in
            guard let preferred = dnnl_primitive_desc_query_md(descriptor, dnnl_query_weights_md, 0) else {
                throw OneDNNError(call: "dnnl_primitive_desc_query_md", status: "no weights descriptor")
            }
            let plain =
                if let quantized {
                    try Memory(tensorDescriptor(layer.weightShape, dnnl_oihw, dnnl_s8), copying: quantized.weights, in: context)
                } else {
                    try Memory(tensorDescriptor(layer.weightShape, dnnl_oihw), copying: weights.weights, in: context)
                }
            let kernel = try reordered(plain, to: preferred.pointee, in: context)
            let bias = try Memory(biasDescriptor, copying: quantized?.bias ?? weights.bias, in: context)
            return try Primitive(
                descriptor,
                arguments: [
                    (DNNL_ARG_SRC, source), (DNNL_ARG_WEIGHTS, kernel), (DNNL_ARG_BIAS, bias), (DNNL_ARG_DST, destination),
                ])
        }
    }
}

/// `memory` in the layout `descriptor` (itself if it already is).
private func reordered(_ memory: Memory, to descriptor: dnnl_memory_desc_t, in context: ComputeContext) throws(OneDNNError) -> Memory {
    var source = memory.descriptor, target = descriptor
    guard dnnl_memory_desc_equal(&source, &target) == 0 else { return memory }
    let result = try Memory(target, in: context)
    var reorder: dnnl_primitive_desc_t?
    try check(
        dnnl_reorder_primitive_desc_create(&reorder, &source, context.engine, &target, context.engine, nil),
        "dnnl_reorder_primitive_desc_create")
    guard let reorder else { throw OneDNNError(call: "dnnl_reorder_primitive_desc_create", status: "no descriptor") }
    defer { dnnl_primitive_desc_destroy(reorder) }
    try Primitive(reorder, arguments: [(DNNL_ARG_FROM, memory), (DNNL_ARG_TO, result)]).execute(in: context)
    try context.wait()
    return result
}

/// A 2×2 average pooling, stride 2, from `source` to `destination` (half its height and width).
func makeAveragePooling(source: Memory, destination: Memory, in context: ComputeContext) throws(OneDNNError) -> Primitive {
    var sourceDescriptor = source.descriptor, destinationDescriptor = destination.descriptor
    var operation = dnnl_pooling_desc_t()
    try check(
        dnnl_pooling_forward_desc_init(
            &operation, dnnl_forward_inference, dnnl_pooling_avg_exclude_padding,
            &sourceDescriptor, &destinationDescriptor, [2, 2], [2, 2], [0, 0], [0, 0]),
        "dnnl_pooling_forward_desc_init")
    return try withPrimitiveDescriptor(&operation, in: context) { descriptor throws(OneDNNError) in
        try Primitive(descriptor, arguments: [(DNNL_ARG_SRC, source), (DNNL_ARG_DST, destination)])
    }
}
