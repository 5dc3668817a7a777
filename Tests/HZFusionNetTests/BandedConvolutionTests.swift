import HybridZoom
import XCTest

@testable import HZFusionNet

/// Convolutions run band by band from band slots give what whole convolutions give, on a level
/// of three and a half bands (first, middle and a shorter last band, each with its own padding).
final class BandedConvolutionTests: XCTestCase {
    let (width, height) = (21, FusionSchedule.bandRows * 3 + FusionSchedule.bandRows / 2)
    let first = FusionArchitecture.decoder[3], second = FusionArchitecture.head  // 40 → 16 → 16
    let context = try! ComputeContext()

    /// Two convolutions, the second into a whole destination, as from the input to the skip.
    func testBandsIntoAWholeDestination() throws {
        try check(lastIsBanded: false)
    }

    /// Two convolutions, the second into a band slot whose rows are read out, as to the head.
    func testBandsReadOutBandByBand() throws {
        try check(lastIsBanded: true)
    }

    private func check(lastIsBanded: Bool) throws {
        var random = SeededRandom(seed: 7)
        let weights = [first, second].map { layer in
            LayerWeights(
                layer: layer, weights: (0..<layer.weightShape.reduce(1, *)).map { _ in random.unit() - 0.5 },
                bias: (0..<layer.outputChannels).map { _ in random.unit() - 0.5 })
        }
        let source = (0..<width * height * first.inputChannels).map { _ in random.unit() }
        let expected = try whole(weights[1], on: whole(weights[0], on: source))

        let slotRows = FusionSchedule.bandSlotRows
        let slot = [Float](repeating: .nan, count: slotRows * width * first.inputChannels)
        var (inputSlot, middleSlot, lastSlot) = (slot, slot, slot)
        var output = [Float](repeating: .nan, count: expected.count)
        var filled: [Range<Int>] = []
        let rowValues = width * first.inputChannels, outputRowValues = width * second.outputChannels
        try inputSlot.withUnsafeMutableBufferPointer { inputSlot in
            try middleSlot.withUnsafeMutableBufferPointer { middleSlot in
                try lastSlot.withUnsafeMutableBufferPointer { lastSlot in
                    try output.withUnsafeMutableBufferPointer { output in
                        func activation(_ pointer: UnsafeMutableBufferPointer<Float>, _ channels: Int) -> Activation<Float> {
                            Activation(pointer: pointer.baseAddress!, channels: channels, width: width, height: height)
                        }
                        let last = lastIsBanded ? lastSlot : output
                        let convolutions = try BandedConvolutions(
                            [
                                .init(
                                    weights: weights[0], source: activation(inputSlot, first.inputChannels),
                                    destination: activation(middleSlot, first.outputChannels), destinationIsBanded: true),
                                .init(
                                    weights: weights[1], source: activation(middleSlot, second.inputChannels),
                                    destination: activation(last, second.outputChannels), destinationIsBanded: lastIsBanded),
                            ], in: context)
                        try convolutions.run(
                            in: context,
                            fill: { rows, band in
                                XCTAssertEqual(band.height, rows.count)
                                filled.append(rows)
                                for (row, y) in rows.enumerated() {
                                    for i in 0..<rowValues { band.pointer[row * rowValues + i] = source[y * rowValues + i] }
                                }
                            },
                            read: { rows, band in
                                XCTAssertTrue(lastIsBanded)
                                XCTAssertEqual(band.height, rows.count)
                                for (row, y) in rows.enumerated() {
                                    for i in 0..<outputRowValues { output[y * outputRowValues + i] = band.pointer[row * outputRowValues + i] }
                                }
                            })
                        try context.wait()
                    }
                }
            }
        }
        let bandRows = FusionSchedule.bandRows
        XCTAssertEqual(filled, [0..<bandRows + 2, bandRows - 2..<2 * bandRows + 2, 2 * bandRows - 2..<3 * bandRows + 2, 3 * bandRows - 2..<height])
        let difference = zip(output, expected).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(difference, 1e-5, "bands differ from whole convolutions by \(difference)")
        XCTAssertGreaterThan(expected.map(abs).max()!, 0.1)
    }

    /// `weights`' convolution of a whole level.
    private func whole(_ weights: LayerWeights, on source: [Float]) throws -> [Float] {
        var source = source
        var output = [Float](repeating: 0, count: width * height * weights.layer.outputChannels)
        try source.withUnsafeMutableBytes { source in
            try output.withUnsafeMutableBytes { output in
                func memory(_ channels: Int, _ data: UnsafeMutableRawPointer) throws -> Memory {
                    try Memory(activationDescriptor(channels: channels, height: height, width: width), borrowing: data, in: context)
                }
                try makeConvolution(
                    weights, source: memory(weights.layer.inputChannels, source.baseAddress!),
                    destination: memory(weights.layer.outputChannels, output.baseAddress!), in: context
                ).execute(in: context)
                try context.wait()
            }
        }
        return output
    }
}
