import HybridZoom
import XCTest

@testable import HZFusionNet

/// Convolutions run band by band from band slots give what whole convolutions give: on levels
/// shorter than a band, of one band and a row, and of three and a half bands (first, middle and
/// a shorter last band, each with its own padding).
final class BandedConvolutionTests: XCTestCase {
    let width = 21
    let heights = [2, 16, FusionSchedule.bandRows + 1, FusionSchedule.bandRows + 3, FusionSchedule.bandRows * 7 / 2]
    let (first, second) = (FusionArchitecture.decoder[3], FusionArchitecture.head)  // 40 → 16 → 16
    let context = try! ComputeContext()

    /// One convolution into a whole destination, as from the input to the encoder's skip.
    func testOneConvolutionIntoAWholeDestination() throws {
        for height in heights { try check([first], height: height, lastIsBanded: false) }
    }

    /// Two convolutions, the second into a whole destination.
    func testTwoConvolutionsIntoAWholeDestination() throws {
        for height in heights { try check([first, second], height: height, lastIsBanded: false) }
    }

    /// Two convolutions, the second into a band slot read out band by band, as to the head.
    func testTwoConvolutionsReadOutBandByBand() throws {
        for height in heights { try check([first, second], height: height, lastIsBanded: true) }
    }

    /// The first band's source rows reach one row further per convolution; the others, one row
    /// further on each side.
    func testBandsReadTheRowsTheirConvolutionsNeed() throws {
        let height = FusionSchedule.bandRows * 7 / 2, bandRows = FusionSchedule.bandRows
        let filled = try check([first, second], height: height, lastIsBanded: true)
        XCTAssertEqual(filled, [0..<bandRows + 2, bandRows - 2..<2 * bandRows + 2, 2 * bandRows - 2..<3 * bandRows + 2, 3 * bandRows - 2..<height])
    }

    /// Runs `layers` (random weights) banded and whole on random input, `height` rows of the
    /// level; returns the source rows each band was filled with.
    @discardableResult
    private func check(_ layers: [FusionArchitecture.Layer], height: Int, lastIsBanded: Bool) throws -> [Range<Int>] {
        var random = SeededRandom(seed: UInt64(height))
        let weights = layers.map { layer in
            LayerWeights(
                layer: layer, weights: (0..<layer.weightShape.reduce(1, *)).map { _ in random.unit() - 0.5 },
                bias: (0..<layer.outputChannels).map { _ in random.unit() - 0.5 })
        }
        let source = (0..<width * height * first.inputChannels).map { _ in random.unit() }
        let expected = try weights.reduce(source) { values, weights in try whole(weights, on: values, height: height) }

        let slotRows = min(height, FusionSchedule.bandSlotRows), rowValues = width * first.inputChannels
        let outputChannels = layers.last!.outputChannels, outputRowValues = width * outputChannels
        var slots = [Float](repeating: .nan, count: (layers.count + 1) * slotRows * rowValues)
        var output = [Float](repeating: .nan, count: expected.count)
        var filled: [Range<Int>] = []
        try slots.withUnsafeMutableBufferPointer { slots in
            try output.withUnsafeMutableBufferPointer { output in
                func slot(_ index: Int, _ channels: Int) -> Activation<Float> {
                    Activation(pointer: slots.baseAddress! + index * slotRows * rowValues, channels: channels, width: width, height: slotRows)
                }
                let whole = Activation(pointer: output.baseAddress!, channels: outputChannels, width: width, height: height)
                let chain = layers.indices.map { index in
                    let isLast = index == layers.count - 1
                    return BandedConvolutions.Layer(
                        weights: weights[index], source: slot(index, layers[index].inputChannels),
                        destination: isLast && !lastIsBanded ? whole : slot(index + 1, layers[index].outputChannels),
                        destinationIsBanded: !isLast || lastIsBanded)
                }
                try BandedConvolutions(chain, levelHeight: height, in: context).run(
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
        let difference = zip(output, expected).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(difference, 1e-5, "\(layers.count) convolutions, \(height) rows: bands differ by \(difference)")
        XCTAssertGreaterThan(expected.map(abs).max()!, 0.1)
        return filled
    }

    /// `weights`' convolution of a whole level.
    private func whole(_ weights: LayerWeights, on source: [Float], height: Int) throws -> [Float] {
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
