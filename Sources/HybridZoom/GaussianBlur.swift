import Foundation

/// Separable Gaussian blur with edge samples repeated: optics blur in the simulator, and later
/// the smoothing of blend maps and the blur of T down to W's optical resolution.
public func gaussianBlur(_ plane: Plane, sigma: Double) -> Plane {
    guard sigma > 0.01 else { return plane }
    let kernel = gaussianKernel(sigma: sigma)
    return blurColumns(blurRows(plane, kernel), kernel)
}

/// What a Gaussian blur of `sigma` takes out of `plane`: its detail finer than that.
public func fineBand(_ plane: Plane, sigma: Double) -> Plane {
    var band = gaussianBlur(plane, sigma: sigma)
    band.pixels.withUnsafeMutableBufferPointer { band in
        plane.pixels.withUnsafeBufferPointer { plane in
            let band = UncheckedSendable(band)
            parallelChunks(band.value.count, itemCost: 1) { range in
                for i in range { band.value[i] = plane[i] - band.value[i] }
            }
        }
    }
    return band
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

/// Horizontal pass: each row is copied once into a buffer padded with its edge values, so the
/// taps run over contiguous memory without clamping; eight outputs at a time sum every tap in a
/// register and are stored once.
private func blurRows(_ plane: Plane, _ kernel: [Float]) -> Plane {
    let radius = kernel.count / 2, width = plane.width
    var result = Plane(width: width, height: plane.height)
    plane.pixels.withUnsafeBufferPointer { source in
        result.pixels.withUnsafeMutableBufferPointer { output in
            let output = UncheckedSendable(output)
            parallelChunks(plane.height, itemCost: width * kernel.count / 4) { rows in
                // Room for the last group of eight to read past the row's end.
                var padded = [Float](repeating: 0, count: width + 2 * radius + 8)
                padded.withUnsafeMutableBufferPointer { padded in
                    for y in rows {
                        let row = source.baseAddress! + y * width
                        for i in 0..<(width + 2 * radius) { padded[i] = row[min(max(i - radius, 0), width - 1)] }
                        convolve(UnsafePointer(padded.baseAddress!), kernel, into: output.value.baseAddress! + y * width, count: width)
                    }
                }
            }
        }
    }
    return result
}

/// Vertical pass: whole rows at a time, the rows each output row reads found once per row.
private func blurColumns(_ plane: Plane, _ kernel: [Float]) -> Plane {
    let radius = kernel.count / 2, width = plane.width, height = plane.height
    var result = Plane(width: width, height: height)
    plane.pixels.withUnsafeBufferPointer { source in
        result.pixels.withUnsafeMutableBufferPointer { output in
            let output = UncheckedSendable(output)
            parallelChunks(height, itemCost: width * kernel.count / 4) { rows in
                var taps = [UnsafePointer<Float>](repeating: source.baseAddress!, count: kernel.count)
                for y in rows {
                    for tap in taps.indices { taps[tap] = source.baseAddress! + min(max(y + tap - radius, 0), height - 1) * width }
                    convolveRows(taps, kernel, into: output.value.baseAddress! + y * width, count: width)
                }
            }
        }
    }
    return result
}

/// `output[x] = Σ kernel[t] · input[x + t]` for `count` outputs, eight at a time; `input` must
/// hold `count` rounded up to a multiple of eight, plus `kernel.count − 1` values.
@inline(__always)
private func convolve(_ input: UnsafePointer<Float>, _ kernel: [Float], into output: UnsafeMutablePointer<Float>, count: Int) {
    kernel.withUnsafeBufferPointer { kernel in
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
}

/// `output[x] = Σ kernel[t] · rows[t][x]`, eight at a time.
@inline(__always)
private func convolveRows(_ rows: [UnsafePointer<Float>], _ kernel: [Float], into output: UnsafeMutablePointer<Float>, count: Int) {
    kernel.withUnsafeBufferPointer { kernel in
        rows.withUnsafeBufferPointer { rows in
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
    }
}

/// The first `count` (1…8) lanes of `value` to `pointer`.
@inline(__always)
private func store(_ value: SIMD8<Float>, to pointer: UnsafeMutablePointer<Float>, count: Int) {
    if count == 8 { return UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self) }
    for lane in 0..<count { pointer[lane] = value[lane] }
}
