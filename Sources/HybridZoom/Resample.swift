import Dispatch

/// Separable resampling of a rectangle of a plane to a new size: bicubic (Catmull-Rom, a = −0.5)
/// unless `interpolation` says bilinear (the tent kernel).
///
/// When shrinking, the kernel is stretched by the scale factor so that it also low-passes
/// (no aliasing); when enlarging it is the plain 4-tap cubic or 2-tap tent. Samples outside the
/// plane repeat the edge. Weights are computed once per output row and column, not per pixel.
///
/// Of the two passes, the vertical one runs along contiguous rows and vectorises; the
/// horizontal one gathers. So the gathering pass goes on the side with fewer rows: first when
/// enlarging, last when shrinking.
public func resample(_ plane: Plane, from rect: Rect, to size: Size, interpolation: Interpolation = .bicubic) -> Plane {
    plane.withSourceRows { resample($0, from: rect, to: size, interpolation: interpolation) }
}

/// An 8-bit plane resampled as `resample` resamples the same samples in floats, with the same
/// result: each source row is converted as it is read.
public func resample(_ plane: BytePlane, from rect: Rect, to size: Size, interpolation: Interpolation = .bicubic) -> Plane {
    plane.withSourceRows { resample($0, from: rect, to: size, interpolation: interpolation) }
}

/// Either kind of plane, for the stages written once for both.
func resample<P: ReadablePlane>(_ plane: P, from rect: Rect, to size: Size, interpolation: Interpolation = .bicubic) -> Plane {
    plane.withSourceRows { resample($0, from: rect, to: size, interpolation: interpolation) }
}

private func resample(_ source: SourceRows, from rect: Rect, to size: Size, interpolation: Interpolation) -> Plane {
    precondition(size.width > 0 && size.height > 0, "cannot resample to an empty size \(size)")
    let columns = ResamplingTaps(
        sourceStart: rect.x, sourceLength: rect.width,
        sourceCount: source.size.width, outputCount: size.width, kernel: interpolation)
    let rows = ResamplingTaps(
        sourceStart: rect.y, sourceLength: rect.height,
        sourceCount: source.size.height, outputCount: size.height, kernel: interpolation)
    if rows.outputsFewerThanRead { return resampleShrinking(source, rows: rows, columns: columns) }
    return resampleInBlocks(source, rows: rows, columns: columns)
}

/// The rows a stage reads (the resampler's passes, the noise measurement, the colour match): a
/// float plane's, where they lie, or an 8-bit plane's, converted into a buffer the caller lends
/// as they are read, or a plane's made as they are read (`SourceLuma`), into that buffer too.
struct SourceRows {
    let size: Size
    private let floats: UnsafePointer<Float>?
    private let bytes: UnsafePointer<UInt8>?
    private let make: ((Range<Int>, UnsafeMutablePointer<Float>) -> Void)?

    init(_ floats: UnsafePointer<Float>, size: Size) { (self.floats, bytes, make, self.size) = (floats, nil, nil, size) }
    init(_ bytes: UnsafePointer<UInt8>, size: Size) { (floats, self.bytes, make, self.size) = (nil, bytes, nil, size) }

    /// Rows that `make(rows, buffer)` writes into the buffer, whole rows one after another.
    init(size: Size, making make: @escaping (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        (floats, bytes, self.make, self.size) = (nil, nil, make, size)
    }

    /// Row `y`: where it lies, or converted into `scratch` (room for a row).
    @inline(__always)
    func row(_ y: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> { rows(y..<(y + 1), scratch: scratch) }

    /// Consecutive rows: where they lie, or converted or made into `scratch` (room for them all).
    @inline(__always)
    func rows(_ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        if let floats { return floats + rows.lowerBound * size.width }
        if let bytes {
            convertSamples(bytes + rows.lowerBound * size.width, count: rows.count * size.width, into: scratch)
        } else {
            make!(rows, scratch)
        }
        return UnsafePointer(scratch)
    }

    /// The sample at (x, y), which must lie in the plane, of a plane held in memory.
    @inline(__always)
    func at(_ x: Int, _ y: Int) -> Float {
        let index = y * size.width + x
        if let floats { return floats[index] }
        precondition(make == nil, "a plane made as it is read is read by rows")
        return Float(bytes![index]) * (1 / 255)
    }

    /// Whether rows are converted or made, and so need a buffer each while they are read.
    var converts: Bool { floats == nil }
}

/// Which source samples, with which weights, make each output sample along one axis.
/// Every output sample has the same number of taps (`count`: as many as the kernel's support
/// can hold strictly inside it) and reads consecutive source samples from `starts`; taps past
/// the support carry weight 0. `indices` are the same samples clamped to the plane.
struct ResamplingTaps {
    let count: Int
    let indices: [Int32]
    let starts: [Int32]
    let weights: [Float]
    let lowestIndex: Int
    let highestIndex: Int
    /// How far the taps reach before the first source sample and past the last.
    let reachBefore: Int
    let reachAfter: Int

    init(sourceStart: Double, sourceLength: Double, sourceCount: Int, outputCount: Int, kernel: Interpolation) {
        let scale = sourceLength / Double(outputCount)
        let stretch = max(scale, 1)
        let radius = kernel.support * stretch
        count = Int((2 * radius).rounded(.up))
        var indices = [Int32](repeating: 0, count: count * outputCount)
        var starts = [Int32](repeating: 0, count: outputCount)
        var weights = [Float](repeating: 0, count: count * outputCount)
        var lowest = Int.max, highest = Int.min, before = 0, after = 0
        for output in 0..<outputCount {
            // Centre of the output sample in source pixel-index space.
            let centre = sourceStart + (Double(output) + 0.5) * scale - 0.5
            let first = Int((centre - radius).rounded(.down)) + 1
            starts[output] = Int32(first)
            before = max(before, -first)
            after = max(after, first + count - sourceCount)
            var total = 0.0
            for tap in 0..<count {
                let source = first + tap
                let weight = kernel.weight((Double(source) - centre) / stretch)
                let clamped = min(max(source, 0), sourceCount - 1)
                indices[output * count + tap] = Int32(clamped)
                weights[output * count + tap] = Float(weight)
                total += weight
                if weight != 0 {
                    lowest = min(lowest, clamped)
                    highest = max(highest, clamped)
                }
            }
            for tap in 0..<count { weights[output * count + tap] /= Float(total) }
        }
        (self.indices, self.starts, self.weights) = (indices, starts, weights)
        lowestIndex = lowest
        highestIndex = highest
        (reachBefore, reachAfter) = (before, after)
    }
}

/// The pass along rows: each row is first copied with its edge repeated as far as the taps
/// reach, so that every output sums consecutive samples without clamping or looking up where
/// they are; then eight neighbouring outputs are summed together. Their taps span the `steps`
/// consecutive samples from `start` on (the first output's first tap to the last one's last), and
/// step k adds sample k, broadcast, times eight weights, each the weight that output gives that
/// sample (0 if it is not one of its taps). Each output thus adds its own taps in the order one at
/// a time would, with zeros between, so for finite samples the sums are the same; but eight at
/// once, with neither gathers nor a serial chain of additions per output.
struct RowResampler {
    let outputCount: Int
    /// How far the taps reach before a row's first sample and past its last.
    let reachBefore: Int
    let reachAfter: Int
    private var start: [Int32] = []
    private var steps: [Int32] = []
    /// Where each group's weights begin in `weights`, eight per step.
    private var offset: [Int] = []
    private var weights: [Float] = []

    init(_ taps: ResamplingTaps) {
        (outputCount, reachBefore, reachAfter) = (taps.starts.count, taps.reachBefore, taps.reachAfter)
        for first in stride(from: 0, to: outputCount, by: 8) {
            let last = min(first + 8, outputCount) - 1
            let steps = Int(taps.starts[last] - taps.starts[first]) + taps.count
            start.append(taps.starts[first])
            self.steps.append(Int32(steps))
            offset.append(weights.count)
            var group = [Float](repeating: 0, count: steps * 8)
            for lane in 0...(last - first) {
                let shift = Int(taps.starts[first + lane] - taps.starts[first])
                for tap in 0..<taps.count { group[(shift + tap) * 8 + lane] = taps.weights[(first + lane) * taps.count + tap] }
            }
            weights += group
        }
    }

    /// Rows `rows` of a plane `width` wide resampled along their length, into consecutive rows
    /// of `output`, on this thread: all their outputs, or only those of `groups` (of eight
    /// outputs each, the last maybe fewer), from output `groups.lowerBound * 8` on, the same
    /// values either way.
    func resampleRows(
        _ rows: Range<Int>, of source: SourceRows, into output: UnsafeMutablePointer<Float>, groups: Range<Int>? = nil
    ) {
        let width = source.size.width, groups = groups ?? start.indices
        let rowLength = min(groups.upperBound * 8, outputCount) - groups.lowerBound * 8
        withUnsafeTemporaryAllocation(of: Float.self, capacity: reachBefore + width + reachAfter) { padded in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: source.converts ? width : 1) { scratch in
                for (index, y) in rows.enumerated() {
                    let row = source.row(y, scratch: scratch.baseAddress!)
                    resampleRow(row, width: width, padded: padded.baseAddress!, groups: groups, into: output + index * rowLength)
                }
            }
        }
    }

    /// One row, `width` long, through `padded` (room for `reachBefore + width + reachAfter` values).
    func resampleRow(
        _ row: UnsafePointer<Float>, width: Int, padded: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>
    ) {
        resampleRow(row, width: width, padded: padded, groups: start.indices, into: output)
    }

    /// The same for the outputs of `groups` alone, from the first group's first output on.
    private func resampleRow(
        _ row: UnsafePointer<Float>, width: Int, padded: UnsafeMutablePointer<Float>, groups: Range<Int>,
        into output: UnsafeMutablePointer<Float>
    ) {
        padded.update(repeating: row[0], count: reachBefore)
        (padded + reachBefore).update(from: row, count: width)
        (padded + reachBefore + width).update(repeating: row[width - 1], count: reachAfter)
        let samples = padded + reachBefore
        weights.withUnsafeBufferPointer { weights in
            for group in groups {
                let source = samples + Int(start[group])
                var weight = weights.baseAddress! + offset[group], sum = SIMD8<Float>.zero
                for step in 0..<Int(steps[group]) {
                    sum += UnsafeRawPointer(weight).loadUnaligned(as: SIMD8<Float>.self) * SIMD8(repeating: source[step])
                    weight += 8
                }
                store(sum, to: output + (group - groups.lowerBound) * 8, count: min(8, outputCount - group * 8))
            }
        }
    }
}

extension Interpolation {
    /// How far the kernel reaches, in source pixels when enlarging.
    var support: Double {
        switch self {
        case .bilinear: 1
        case .bicubic: 2
        }
    }

    /// The kernel at `t` source pixels from the output sample's centre.
    func weight(_ t: Double) -> Double {
        switch self {
        case .bilinear: max(0, 1 - abs(t))
        case .bicubic: catmullRom(t)
        }
    }
}

/// The Catmull-Rom cubic: interpolating, C1, support [−2, 2].
@inline(__always)
func catmullRom(_ t: Double) -> Double {
    let x = abs(t)
    if x < 1 { return (1.5 * x - 2.5) * x * x + 1 }
    if x < 2 { return ((-0.5 * x + 2.5) * x - 4) * x + 2 }
    return 0
}

/// The horizontal pass on the rows `rows` of `plane`, all at once: for `localEnergy(ofBandOf:)`
/// and the coarse rows of `EnlargedMask`.
func resampleRows(_ plane: Plane, rows: Range<Int>, columns: ResamplingTaps) -> Plane {
    let outputWidth = columns.starts.count, across = RowResampler(columns)
    var result = Plane(width: outputWidth, height: rows.count)
    plane.pixels.withUnsafeBufferPointer { source in
        result.pixels.withUnsafeMutableBufferPointer { output in
            let output = UncheckedSendable(output)
            parallelChunks(rows.count, itemCost: outputWidth * columns.count / 4) { chunk in
                across.resampleRows(
                    (rows.lowerBound + chunk.lowerBound)..<(rows.lowerBound + chunk.upperBound),
                    of: SourceRows(source.baseAddress!, size: plane.size),
                    into: output.value.baseAddress! + chunk.lowerBound * outputWidth)
            }
        }
    }
    return result
}

/// Enlarging: both passes a block of output rows at a time, each block making the horizontal
/// pass of only the source rows its taps read, into a buffer of its own. The horizontal pass is
/// never held whole (half the output at 2×: 24 MB for `I_src` at 12 MP), for the few rows that
/// neighbouring blocks both read, made twice. The same sums, so the same values.
private func resampleInBlocks(_ source: SourceRows, rows: ResamplingTaps, columns: ResamplingTaps) -> Plane {
    let resampler = EnlargingResampler(rows: rows, columns: columns), size = resampler.outputSize
    var result = Plane(width: size.width, height: size.height)
    result.pixels.withUnsafeMutableBufferPointer { output in
        let output = UncheckedSendable(output)
        parallelChunks(size.height, itemCost: size.width * (columns.count + rows.count) / 4) { chunk in
            resampler.resample(
                source, rows: chunk, columns: 0..<size.width, into: output.value.baseAddress! + chunk.lowerBound * size.width,
                rowLength: size.width)
        }
    }
    return result
}

/// `resampleInBlocks`'s passes for any rectangle of the output, with the same sums, so the same
/// values: for a plane made again, a part at a time, as it is read (`SourceLuma`).
struct EnlargingResampler: Sendable {
    let rows: ResamplingTaps
    let across: RowResampler
    var outputSize: Size { Size(width: across.outputCount, height: rows.starts.count) }

    init(rows: ResamplingTaps, columns: ResamplingTaps) {
        (self.rows, across) = (rows, RowResampler(columns))
    }

    /// Output rows `outputRows` × `columns` of `source`, each row `rowLength` after the one
    /// before in `output`: the horizontal pass of the source rows they read, for the groups of
    /// eight columns that hold `columns`, then the vertical pass.
    func resample(
        _ source: SourceRows, rows outputRows: Range<Int>, columns: Range<Int>, into output: UnsafeMutablePointer<Float>,
        rowLength: Int
    ) {
        let sourceRows = rows.sourceRange(of: outputRows)
        let groups = (columns.lowerBound / 8)..<((columns.upperBound + 7) / 8)
        let first = groups.lowerBound * 8, spanned = min(groups.upperBound * 8, across.outputCount) - first
        withUnsafeTemporaryAllocation(of: Float.self, capacity: sourceRows.count * spanned) { horizontal in
            across.resampleRows(sourceRows, of: source, into: horizontal.baseAddress!, groups: groups)
            for y in outputRows {
                rows.sum(
                    output: y, of: horizontal.baseAddress!, width: spanned, firstRow: sourceRows.lowerBound,
                    columns: (columns.lowerBound - first)..<(columns.upperBound - first),
                    into: output + (y - outputRows.lowerBound) * rowLength)
            }
        }
    }
}

extension ResamplingTaps {
    /// The source samples that `outputs` read with a weight other than 0.
    func sourceRange(of outputs: Range<Int>) -> Range<Int> {
        var lowest = Int.max, highest = Int.min
        for tap in (outputs.lowerBound * count)..<(outputs.upperBound * count) where weights[tap] != 0 {
            lowest = min(lowest, Int(indices[tap]))
            highest = max(highest, Int(indices[tap]))
        }
        return lowest..<(highest + 1)
    }
}

/// Shrinking: the vertical pass first, a tap at a time over whole rows (so the loop runs along
/// contiguous rows and vectorises, and reads two rows at a time however many taps there are),
/// then the horizontal pass; both a band of output rows at a time, so that the vertical pass is
/// never held whole (half of a 100 MP plane, 200 MB, when shrinking by 2). The same sums, so the
/// same values.
/// Output rows shrunk together: enough for whole vectors of work, few enough that their vertical
/// pass (16 rows of the source's width) stays in cache.
private let shrinkingBand = 16

private func resampleShrinking(_ source: SourceRows, rows: ResamplingTaps, columns: ResamplingTaps) -> Plane {
    let outputWidth = columns.starts.count, outputHeight = rows.starts.count, across = RowResampler(columns)
    let width = source.size.width, band = shrinkingBand
    var result = Plane(width: outputWidth, height: outputHeight)
    result.pixels.withUnsafeMutableBufferPointer { output in
        let output = UncheckedSendable(output)
        parallelChunks(outputHeight, itemCost: width) { chunk in
            // A converted (or made) plane's rows are held for a band of outputs at a time, each
            // converted once: the rows the next band reads too move to the front. Made rows are
            // made a band at a time, which shares the work of neighbouring rows.
            let bands = stride(from: chunk.lowerBound, to: chunk.upperBound, by: band).map { $0..<min($0 + band, chunk.upperBound) }
            let read = source.converts ? bands.map { rows.sourceRange(of: $0) } : []
            withUnsafeTemporaryAllocation(of: Float.self, capacity: band * width) { vertical in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: source.converts ? read.map(\.count).max()! * width : 1) { held in
                    var heldRows = 0..<0
                    for (index, outputs) in bands.enumerated() {
                        if source.converts { heldRows = hold(read[index], of: source, in: held.baseAddress!, holding: heldRows) }
                        for y in outputs {
                            rows.sum(output: y, count: width, into: vertical.baseAddress! + (y - outputs.lowerBound) * width) { row in
                                guard source.converts else { return source.row(row, scratch: held.baseAddress!) }
                                return UnsafePointer(held.baseAddress! + (row - heldRows.lowerBound) * width)
                            }
                        }
                        across.resampleRows(
                            0..<outputs.count, of: SourceRows(vertical.baseAddress!, size: Size(width: width, height: outputs.count)),
                            into: output.value.baseAddress! + outputs.lowerBound * outputWidth)
                    }
                }
            }
        }
    }
    return result
}

/// Rows `wanted` of `source` in `buffer`, from its start, where it holds rows `held`, which begin
/// no later than `wanted`: those it has are moved to the front, the rest converted or made after
/// them. Returns `wanted`.
private func hold(_ wanted: Range<Int>, of source: SourceRows, in buffer: UnsafeMutablePointer<Float>, holding held: Range<Int>) -> Range<Int> {
    let width = source.size.width, kept = wanted.clamped(to: held)
    if !kept.isEmpty {
        UnsafeMutableRawPointer(buffer).copyMemory(
            from: buffer + (kept.lowerBound - held.lowerBound) * width, byteCount: kept.count * width * MemoryLayout<Float>.size)
    }
    let missing = (kept.isEmpty ? wanted.lowerBound : kept.upperBound)..<wanted.upperBound
    if !missing.isEmpty { _ = source.rows(missing, scratch: buffer + (missing.lowerBound - wanted.lowerBound) * width) }
    return wanted
}

extension ResamplingTaps {
    /// Output sample `output` of a vertical pass over the rows of `plane` (`width` wide, its
    /// first row being source row `firstRow`), for `columns` alone, into `row`.
    func sum(
        output: Int, of plane: UnsafePointer<Float>, width: Int, firstRow: Int, columns: Range<Int>,
        into row: UnsafeMutablePointer<Float>
    ) {
        sum(output: output, count: columns.count, into: row) { plane + ($0 - firstRow) * width + columns.lowerBound }
    }

    /// Output sample `output` of a vertical pass, `count` columns of it, over the rows that
    /// `sourceRow` gives for each source row index (asked in non-decreasing order), into `row`.
    func sum(
        output: Int, count columns: Int, into row: UnsafeMutablePointer<Float>,
        sourceRow: (Int) -> UnsafePointer<Float>
    ) {
        // Taps of weight 0 may lie outside the rows the first pass made; the others are summed
        // eight columns at a time in a register, in the taps' order.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { kernel in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: count) { rows in
                var used = 0
                for tap in (output * count)..<((output + 1) * count) where weights[tap] != 0 {
                    kernel[used] = weights[tap]
                    rows[used] = sourceRow(Int(indices[tap]))
                    used += 1
                }
                convolveRows(
                    UnsafeBufferPointer(rebasing: rows[..<used]), UnsafeBufferPointer(rebasing: kernel[..<used]), into: row,
                    count: columns)
            }
        }
    }

    /// Whether there are fewer outputs than source samples the taps read: shrinking, where the
    /// pass along this axis goes first.
    var outputsFewerThanRead: Bool { starts.count < highestIndex - lowestIndex + 1 }

    /// The most source rows that one output's taps of weight other than 0 span.
    var widestSpan: Int {
        (0..<starts.count).map { sourceRange(of: $0..<($0 + 1)).count }.max() ?? 0
    }
}

/// A [0, 1] mask on a coarser grid enlarged to `size` one row at a time, as it is read, so the
/// enlarged mask is never held whole (48 MB at 12 MP): resampled as `resample` does (bicubic),
/// then clamped, since the cubic kernel overshoots at a mask's edges. The horizontal pass is
/// made once, on the coarse rows; each row read is the vertical pass and the clamp for that row
/// alone. A mask already of `size` is read as it is.
public struct EnlargedMask: Sendable {
    public let size: Size
    /// The mask's rows, each resampled to `size.width`.
    private let widened: Plane
    /// The vertical pass; nil when the mask is already of `size`.
    private let rows: ResamplingTaps?

    public init(_ mask: Plane, to size: Size) {
        precondition(
            mask.width <= size.width && mask.height <= size.height,
            "a mask of \(mask.size) cannot be enlarged to \(size)")
        self.size = size
        guard mask.size != size else {
            (widened, rows) = (mask, nil)
            return
        }
        let columns = ResamplingTaps(
            sourceStart: 0, sourceLength: Double(mask.width), sourceCount: mask.width, outputCount: size.width,
            kernel: .bicubic)
        let rows = ResamplingTaps(
            sourceStart: 0, sourceLength: Double(mask.height), sourceCount: mask.height, outputCount: size.height,
            kernel: .bicubic)
        widened = resampleRows(mask, rows: rows.lowestIndex..<(rows.highestIndex + 1), columns: columns)
        self.rows = rows
    }

    /// Row `y`'s samples in `columns` into `row`.
    public func row(_ y: Int, columns: Range<Int>, into row: UnsafeMutablePointer<Float>) {
        widened.pixels.withUnsafeBufferPointer { widened in
            guard let rows else {
                return row.update(from: widened.baseAddress! + y * size.width + columns.lowerBound, count: columns.count)
            }
            rows.sum(
                output: y, of: widened.baseAddress!, width: size.width, firstRow: rows.lowestIndex, columns: columns,
                into: row)
            for x in 0..<columns.count { row[x] = row[x].clamped(to: 0...1) }
        }
    }

    /// The whole enlarged mask, for what needs it as a plane.
    public var plane: Plane {
        guard rows != nil else { return widened }
        var result = Plane(width: size.width, height: size.height)
        result.pixels.withUnsafeMutableBufferPointer { output in
            let output = UncheckedSendable(output)
            parallelChunks(size.height, itemCost: size.width) { chunk in
                for y in chunk { row(y, columns: 0..<size.width, into: output.value.baseAddress! + y * size.width) }
            }
        }
        return result
    }
}
