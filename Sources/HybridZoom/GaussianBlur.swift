import Foundation

/// Separable Gaussian blur with edge samples repeated: optics blur in the simulator, and later
/// the smoothing of blend maps and the blur of T down to W's optical resolution.
public func gaussianBlur(_ plane: Plane, sigma: Double) -> Plane {
    guard sigma > 0.01 else { return plane }
    var result = Plane(width: plane.width, height: plane.height)
    result.pixels.withUnsafeMutableBufferPointer { output in
        let output = UncheckedSendable(output)
        forEachBlurredRow(of: plane, sigma: sigma) { y, _, blurred in
            (output.value.baseAddress! + y * plane.width).update(from: blurred, count: plane.width)
        }
    }
    return result
}

/// What a Gaussian blur of `sigma` takes out of `plane`: its detail finer than that.
public func fineBand(_ plane: Plane, sigma: Double) -> Plane {
    var band = Plane(width: plane.width, height: plane.height)
    band.pixels.withUnsafeMutableBufferPointer { output in
        let output = UncheckedSendable(output)
        forEachBlurredRow(of: plane, sigma: sigma) { y, row, blurred in
            let bandRow = output.value.baseAddress! + y * plane.width
            for x in 0..<plane.width { bandRow[x] = row[x] - blurred[x] }
        }
    }
    return band
}

/// `forEachBlurredRow(width:height:sigma:fill:use:)` over the rows of `plane`.
func forEachBlurredRow(
    of plane: Plane, sigma: Double, _ use: (_ y: Int, _ row: UnsafePointer<Float>, _ blurred: UnsafePointer<Float>) -> Void
) {
    plane.pixels.withUnsafeBufferPointer { pixels in
        forEachBlurredRow(
            width: plane.width, height: plane.height, sigma: sigma,
            fill: { y, row in row.update(from: pixels.baseAddress! + y * plane.width, count: plane.width) },
            use: { y, row, blurred, _ in use(y, row, blurred) })
    }
}

/// A separable Gaussian blur of a plane that need never exist whole: `fill(y, row)` writes its
/// row y, and `use(y, row, blurred, spare)` is given row y and the same row blurred, each row
/// once, in parallel blocks of rows (each call may write only what belongs to its row y), with a
/// spare row of `width` floats for its own use (one per core, not one per row). A block's rows,
/// with the kernel's reach above and below, are all that is held, a few megabytes per core
/// whatever the frame, where a blur of the whole plane makes two planes. Sums as the whole-plane
/// passes would, so results do not depend on the blocks; a `sigma` too small to blur gives the
/// rows themselves.
func forEachBlurredRow(
    width: Int, height: Int, sigma: Double,
    fill: (_ y: Int, _ row: UnsafeMutablePointer<Float>) -> Void,
    use: (_ y: Int, _ row: UnsafePointer<Float>, _ blurred: UnsafePointer<Float>, _ spare: UnsafeMutablePointer<Float>) -> Void
) {
    guard width > 0, height > 0 else { return }
    let kernel = sigma > 0.01 ? gaussianKernel(sigma: sigma) : [1]
    let radius = kernel.count / 2, blockRows = 128
    kernel.withUnsafeBufferPointer { kernel in
        parallelChunks(height, itemCost: width * kernel.count / 2) { rows in
            let span = min(blockRows, rows.count) + 2 * radius
            let source = UnsafeMutablePointer<Float>.allocate(capacity: span * width)
            let across = UnsafeMutablePointer<Float>.allocate(capacity: span * width)
            // Room for the last group of eight to read past the row's end.
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: width + 2 * radius + 8)
            let blurred = UnsafeMutablePointer<Float>.allocate(capacity: width)
            let spare = UnsafeMutablePointer<Float>.allocate(capacity: width)
            let taps = UnsafeMutableBufferPointer<UnsafePointer<Float>>.allocate(capacity: kernel.count)
            padded.initialize(repeating: 0, count: width + 2 * radius + 8)
            defer {
                (source.deallocate(), across.deallocate(), padded.deallocate(), blurred.deallocate(), spare.deallocate())
                taps.deallocate()
            }
            for first in stride(from: rows.lowerBound, to: rows.upperBound, by: blockRows) {
                let block = first..<min(first + blockRows, rows.upperBound)
                // The block's rows and `radius` more on each side, edge rows repeated past the plane.
                for index in 0..<(block.count + 2 * radius) {
                    let row = source + index * width
                    fill(min(max(first - radius + index, 0), height - 1), row)
                    blurAlong(row, width: width, kernel: kernel, padded: padded, into: across + index * width)
                }
                for y in block {
                    let index = y - first
                    for tap in 0..<kernel.count { taps[tap] = UnsafePointer(across + (index + tap) * width) }
                    convolveRows(UnsafeBufferPointer(taps), kernel, into: blurred, count: width)
                    use(y, source + (index + radius) * width, blurred, spare)
                }
            }
        }
    }
}

/// `plane` averaged over a Gaussian window of `sigma` (its pixels) and brought onto the coarser
/// `grid`: shrinking onto the grid low-passes about as much as a Gaussian of half its step, so
/// only the rest of the window is blurred there, at a fraction of the cost at full size.
public func averaged(_ plane: Plane, over sigma: Double, onto grid: Size) -> Plane {
    guard grid != plane.size else { return gaussianBlur(plane, sigma: sigma) }
    return blurredOnGrid(resample(plane, from: plane.size.bounds, to: grid), from: plane.width, over: sigma)
}

/// The rest of `averaged`'s window, blurred on the grid a plane `width` wide was shrunk onto.
private func blurredOnGrid(_ shrunk: Plane, from width: Int, over sigma: Double) -> Plane {
    let step = Double(width) / Double(shrunk.width)
    return gaussianBlur(shrunk, sigma: max(sigma * sigma - step * step / 4, 0).squareRoot() / step)
}

/// The local energy of a band (`fineBand`'s result): its squares, `averaged` over a Gaussian window
/// of `sigma` onto `grid`.
public func localEnergy(of band: consuming Plane, over sigma: Double, onto grid: Size) -> Plane {
    for i in band.pixels.indices { band.pixels[i] *= band.pixels[i] }
    return averaged(band, over: sigma, onto: grid)
}

/// `localEnergy(of: fineBand(plane, sigma: band), over: window, onto: grid)`, the same values,
/// without the band ever held whole: each chunk of the grid's rows makes the band's squared rows
/// that its shrink reads, in order, and keeps only as many as the blur and the shrink reach. The
/// band was a plane as large as `plane` (400 MB at 100 MP), and three passes over memory.
public func localEnergy(ofBandOf plane: Plane, sigma band: Double, over window: Double, onto grid: Size) -> Plane {
    let rows = ResamplingTaps(
        sourceStart: 0, sourceLength: Double(plane.height), sourceCount: plane.height, outputCount: grid.height,
        kernel: .bicubic)
    // Where `resample` would not shrink along the columns first (a grid as tall as the plane, or
    // nearly), the band is made whole, as there.
    guard grid != plane.size, rows.outputsFewerThanRead else {
        return localEnergy(of: fineBand(plane, sigma: band), over: window, onto: grid)
    }
    let kernel = band > 0.01 ? gaussianKernel(sigma: band) : [1], span = rows.widestSpan
    var columnsShrunk = Plane(width: plane.width, height: grid.height)
    plane.pixels.withUnsafeBufferPointer { pixels in
        kernel.withUnsafeBufferPointer { kernel in
            columnsShrunk.pixels.withUnsafeMutableBufferPointer { output in
                let output = UncheckedSendable(output)
                // Neighbouring parts both make the rows that their taps and the blur share: each
                // part makes at least eight times as many of its own, whatever the core count.
                let parts = max(1, min(grid.height, plane.height / (8 * (span + kernel.count))))
                parallelChunks(parts) { indices in
                    for part in indices {
                        let outputs = (grid.height * part / parts)..<(grid.height * (part + 1) / parts)
                        let band = SquaredBandRows(
                            pixels.baseAddress!, width: plane.width, height: plane.height, kernel: kernel, keeping: span,
                            from: rows.sourceRange(of: outputs).lowerBound)
                        for y in outputs {
                            rows.sum(output: y, count: plane.width, into: output.value.baseAddress! + y * plane.width) { band.row($0) }
                        }
                    }
                }
            }
        }
    }
    let columns = ResamplingTaps(
        sourceStart: 0, sourceLength: Double(plane.width), sourceCount: plane.width, outputCount: grid.width, kernel: .bicubic)
    return blurredOnGrid(resampleRows(columnsShrunk, rows: 0..<grid.height, columns: columns), from: plane.width, over: window)
}

/// The squared rows of a plane's fine band, made one at a time in order (`row(y)` for
/// increasing y), the last `keeping` of them kept in a ring; the blur's rows along, in a ring of
/// the kernel's height. Each row is made with the same sums as `forEachBlurredRow`.
private final class SquaredBandRows {
    let pixels: UnsafePointer<Float>
    let width: Int, height: Int, kernel: UnsafeBufferPointer<Float>
    let keeping: Int
    private let squared: UnsafeMutablePointer<Float>
    private let across: UnsafeMutablePointer<Float>
    private let padded: UnsafeMutablePointer<Float>
    private let blurred: UnsafeMutablePointer<Float>
    private let taps: UnsafeMutableBufferPointer<UnsafePointer<Float>>
    /// The next band row to make, and the next row to blur along (may lie above the plane).
    private var nextRow: Int
    private var nextAcross: Int

    init(
        _ pixels: UnsafePointer<Float>, width: Int, height: Int, kernel: UnsafeBufferPointer<Float>, keeping: Int,
        from first: Int
    ) {
        (self.pixels, self.width, self.height, self.kernel, self.keeping) = (pixels, width, height, kernel, keeping)
        squared = .allocate(capacity: keeping * width)
        across = .allocate(capacity: kernel.count * width)
        padded = .allocate(capacity: width + kernel.count + 8)
        padded.initialize(repeating: 0, count: width + kernel.count + 8)
        blurred = .allocate(capacity: width)
        taps = .allocate(capacity: kernel.count)
        nextRow = first
        nextAcross = first - kernel.count / 2
    }

    deinit {
        (squared.deallocate(), across.deallocate(), padded.deallocate(), blurred.deallocate())
        taps.deallocate()
    }

    /// Band row `y` squared; `y` no lower than the last one asked for (the same again is fine).
    func row(_ y: Int) -> UnsafePointer<Float> {
        while nextRow <= y { make(nextRow) }
        return UnsafePointer(squared + y % keeping * width)
    }

    private func make(_ y: Int) {
        let radius = kernel.count / 2
        while nextAcross <= y + radius {
            let source = pixels + min(max(nextAcross, 0), height - 1) * width
            blurAlong(source, width: width, kernel: kernel, padded: padded, into: acrossRow(nextAcross))
            nextAcross += 1
        }
        for tap in 0..<kernel.count { taps[tap] = UnsafePointer(acrossRow(y - radius + tap)) }
        convolveRows(UnsafeBufferPointer(taps), kernel, into: blurred, count: width)
        let row = pixels + y * width, output = squared + y % keeping * width
        for x in 0..<width {
            let band = row[x] - blurred[x]
            output[x] = band * band
        }
        nextRow = y + 1
    }

    private func acrossRow(_ y: Int) -> UnsafeMutablePointer<Float> {
        across + (y % kernel.count + kernel.count) % kernel.count * width
    }
}

/// `fineBand(plane, sigma:)` on some blocks of it alone (`side` × `side` from each origin, inside
/// the plane; `side` a multiple of eight), one after another, each row by row: the same sums as
/// the whole band's, edges repeated as there.
func fineBand(_ plane: Plane, sigma: Double, blocks origins: [(x: Int, y: Int)], side: Int) -> [Float] {
    precondition(side > 0 && side % 8 == 0, "blocks of \(side) px: the side must be a multiple of 8")
    precondition(
        origins.allSatisfy { $0.x >= 0 && $0.y >= 0 && $0.x + side <= plane.width && $0.y + side <= plane.height },
        "blocks of \(side) px must lie inside the \(plane.size) plane")
    let kernel = sigma > 0.01 ? gaussianKernel(sigma: sigma) : [1], radius = kernel.count / 2
    var band = [Float](repeating: 0, count: origins.count * side * side)
    plane.pixels.withUnsafeBufferPointer { pixels in
        kernel.withUnsafeBufferPointer { kernel in
            band.withUnsafeMutableBufferPointer { band in
                let stretch = UnsafeMutablePointer<Float>.allocate(capacity: side + 2 * radius)
                let across = UnsafeMutablePointer<Float>.allocate(capacity: (side + 2 * radius) * side)
                let blurred = UnsafeMutablePointer<Float>.allocate(capacity: side)
                let taps = UnsafeMutableBufferPointer<UnsafePointer<Float>>.allocate(capacity: kernel.count)
                defer { (stretch.deallocate(), across.deallocate(), blurred.deallocate(), taps.deallocate()) }
                for (block, origin) in origins.enumerated() {
                    // Along the rows first, for the block's columns and the kernel's reach of rows
                    // around it: each row's stretch with its reach, edges repeated as `blurAlong` pads.
                    for index in 0..<(side + 2 * radius) {
                        let row = pixels.baseAddress! + min(max(origin.y - radius + index, 0), plane.height - 1) * plane.width
                        for i in 0..<(side + 2 * radius) { stretch[i] = row[min(max(origin.x - radius + i, 0), plane.width - 1)] }
                        convolve(stretch, kernel, into: across + index * side, count: side)
                    }
                    for y in 0..<side {
                        for tap in taps.indices { taps[tap] = UnsafePointer(across + (y + tap) * side) }
                        convolveRows(UnsafeBufferPointer(taps), kernel, into: blurred, count: side)
                        let row = pixels.baseAddress! + (origin.y + y) * plane.width + origin.x
                        let output = band.baseAddress! + (block * side + y) * side
                        for x in 0..<side { output[x] = row[x] - blurred[x] }
                    }
                }
            }
        }
    }
    return band
}

/// Normalised Gaussian weights out to 3σ, centre in the middle.
func gaussianKernel(sigma: Double) -> [Float] {
    let radius = gaussianRadius(sigma: sigma)
    let weights = (-radius...radius).map { offset in exp(-Double(offset * offset) / (2 * sigma * sigma)) }
    let total = weights.reduce(0, +)
    return weights.map { Float($0 / total) }
}

/// How far `gaussianKernel` reaches on each side: 3σ, at least one pixel.
private func gaussianRadius(sigma: Double) -> Int { max(1, Int((3 * sigma).rounded(.up))) }

/// How many pixels on each side of a pixel `forEachBlurredRow` reads to blur it.
func blurReach(sigma: Double) -> Int { sigma > 0.01 ? gaussianRadius(sigma: sigma) : 0 }

/// One row blurred along its length: copied into `padded` (room for the row, the kernel's reach
/// on both sides and eight more) with its edge values repeated, so that the taps run over
/// contiguous memory without clamping.
@inline(__always)
private func blurAlong(
    _ row: UnsafePointer<Float>, width: Int, kernel: UnsafeBufferPointer<Float>, padded: UnsafeMutablePointer<Float>,
    into output: UnsafeMutablePointer<Float>
) {
    let radius = kernel.count / 2
    padded.update(repeating: row[0], count: radius)
    (padded + radius).update(from: row, count: width)
    (padded + radius + width).update(repeating: row[width - 1], count: radius)
    convolve(UnsafePointer(padded), kernel, into: output, count: width)
}

/// `output[x] = Σ kernel[t] · input[x + t]` for `count` outputs, eight at a time; `input` must
/// hold `count` rounded up to a multiple of eight, plus `kernel.count − 1` values.
@inline(__always)
private func convolve(
    _ input: UnsafePointer<Float>, _ kernel: UnsafeBufferPointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int
) {
    var x = 0
    while x < count {
        var sum = SIMD8<Float>.zero
        for tap in kernel.indices {
            sum += kernel[tap] * UnsafeRawPointer(input + x + tap).loadUnaligned(as: SIMD8<Float>.self)
        }
        store(sum, to: output + x, count: min(8, count - x))
        x += 8
    }
}

/// `output[x] = Σ kernel[t] · rows[t][x]`, eight at a time.
@inline(__always)
func convolveRows(
    _ rows: UnsafeBufferPointer<UnsafePointer<Float>>, _ kernel: UnsafeBufferPointer<Float>,
    into output: UnsafeMutablePointer<Float>, count: Int
) {
    var x = 0
    while x + 8 <= count {
        var sum = SIMD8<Float>.zero
        for tap in kernel.indices {
            sum += kernel[tap] * UnsafeRawPointer(rows[tap] + x).loadUnaligned(as: SIMD8<Float>.self)
        }
        UnsafeMutableRawPointer(output + x).storeBytes(of: sum, as: SIMD8<Float>.self)
        x += 8
    }
    for x in x..<count {
        var sum: Float = 0
        for tap in kernel.indices { sum += kernel[tap] * rows[tap][x] }
        output[x] = sum
    }
}

/// The first `count` (1…8) lanes of `value` to `pointer`.
@inline(__always)
func store(_ value: SIMD8<Float>, to pointer: UnsafeMutablePointer<Float>, count: Int) {
    if count == 8 { return UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self) }
    for lane in 0..<count { pointer[lane] = value[lane] }
}
