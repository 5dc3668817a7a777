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
    let step = Double(plane.width) / Double(grid.width)
    let shrunk = resample(plane, from: plane.size.bounds, to: grid)
    return gaussianBlur(shrunk, sigma: max(sigma * sigma - step * step / 4, 0).squareRoot() / step)
}

/// The local energy of a band (`fineBand`'s result): its squares, `averaged` over a Gaussian window
/// of `sigma` onto `grid`.
public func localEnergy(of band: consuming Plane, over sigma: Double, onto grid: Size) -> Plane {
    for i in band.pixels.indices { band.pixels[i] *= band.pixels[i] }
    return averaged(band, over: sigma, onto: grid)
}

/// Normalised Gaussian weights out to 3σ, centre in the middle.
func gaussianKernel(sigma: Double) -> [Float] {
    let radius = max(1, Int((3 * sigma).rounded(.up)))
    let weights = (-radius...radius).map { offset in exp(-Double(offset * offset) / (2 * sigma * sigma)) }
    let total = weights.reduce(0, +)
    return weights.map { Float($0 / total) }
}

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
