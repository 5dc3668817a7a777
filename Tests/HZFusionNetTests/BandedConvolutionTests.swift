import HybridZoom
import XCTest

@testable import HZFusionNet

final class BandedConvolutionTests: XCTestCase {
    /// A level of three and a half bands (first, middle and a shorter last band, each with its
    /// own padding), convolved band by band from a band slot, gives what one convolution of the
    /// whole level gives.
    func testBandsComputeTheWholeConvolution() throws {
        let layer = FusionArchitecture.encoder[0][0]
        let (width, height) = (21, FusionSchedule.bandRows * 3 + FusionSchedule.bandRows / 2)
        var random = SeededRandom(seed: 7)
        let weights = LayerWeights(
            layer: layer, weights: (0..<layer.weightShape.reduce(1, *)).map { _ in random.unit() - 0.5 },
            bias: (0..<layer.outputChannels).map { _ in random.unit() - 0.5 })
        var source = (0..<width * height * layer.inputChannels).map { _ in random.unit() }
        let context = try ComputeContext()

        var whole = [Float](repeating: 0, count: width * height * layer.outputChannels)
        try source.withUnsafeMutableBytes { source in
            try whole.withUnsafeMutableBytes { output in
                func memory(_ channels: Int, _ data: UnsafeMutableRawPointer) throws -> Memory {
                    try Memory(activationDescriptor(channels: channels, height: height, width: width), borrowing: data, in: context)
                }
                let convolution = try makeConvolution(
                    weights, source: memory(layer.inputChannels, source.baseAddress!),
                    destination: memory(layer.outputChannels, output.baseAddress!), in: context)
                try convolution.execute(in: context)
                try context.wait()
            }
        }

        let rowValues = width * layer.inputChannels
        var slot = [Float](repeating: .nan, count: (FusionSchedule.bandRows + 2) * rowValues)
        var banded = [Float](repeating: .nan, count: whole.count)
        var filled: [Range<Int>] = []
        try slot.withUnsafeMutableBufferPointer { slot in
            try banded.withUnsafeMutableBufferPointer { output in
                let convolution = try BandedConvolution(
                    weights,
                    source: Activation(pointer: slot.baseAddress!, channels: layer.inputChannels, width: width, height: height),
                    destination: Activation(pointer: output.baseAddress!, channels: layer.outputChannels, width: width, height: height),
                    in: context)
                try convolution.run(in: context) { rows, band in
                    XCTAssertEqual(band.height, rows.count)
                    filled.append(rows)
                    for (row, y) in rows.enumerated() {
                        for i in 0..<rowValues { band.pointer[row * rowValues + i] = source[y * rowValues + i] }
                    }
                }
                try context.wait()
            }
        }
        XCTAssertEqual(filled.first, 0..<FusionSchedule.bandRows + 1)
        XCTAssertEqual(filled.last, FusionSchedule.bandRows * 3 - 1..<height)
        XCTAssertEqual(filled.count, 4)
        let difference = zip(banded, whole).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(difference, 1e-5, "bands differ from the whole convolution by \(difference)")
        XCTAssertGreaterThan(whole.map(abs).max()!, 0.1)
    }
}
