import Foundation

/// Separable Gaussian blur with edge samples repeated: optics blur in the simulator, and later
/// the smoothing of blend maps and the blur of T down to W's optical resolution.
public func gaussianBlur(_ plane: Plane, sigma: Double) -> Plane {
    guard sigma > 0.01 else { return plane }
    let kernel = gaussianKernel(sigma: sigma)
    return blurColumns(blurRows(plane, kernel), kernel)
}

/// Normalised Gaussian weights out to 3σ, centre in the middle.
func gaussianKernel(sigma: Double) -> [Float] {
    let radius = max(1, Int((3 * sigma).rounded(.up)))
    let weights = (-radius...radius).map { offset in exp(-Double(offset * offset) / (2 * sigma * sigma)) }
    let total = weights.reduce(0, +)
    return weights.map { Float($0 / total) }
}

/// Horizontal pass: each row is copied once into a buffer padded with its edge values, so the
/// taps run over contiguous memory without clamping, tap by tap, which vectorises.
private func blurRows(_ plane: Plane, _ kernel: [Float]) -> Plane {
    let radius = kernel.count / 2, width = plane.width
    var result = Plane(width: width, height: plane.height)
    plane.pixels.withUnsafeBufferPointer { source in
        result.pixels.withUnsafeMutableBufferPointer { output in
            let output = UncheckedSendable(output)
            parallelChunks(plane.height, itemCost: width) { rows in
                var padded = [Float](repeating: 0, count: width + 2 * radius)
                for y in rows {
                    let row = source.baseAddress! + y * width, out = output.value.baseAddress! + y * width
                    for i in padded.indices { padded[i] = row[min(max(i - radius, 0), width - 1)] }
                    out.initialize(repeating: 0, count: width)
                    padded.withUnsafeBufferPointer { padded in
                        for (tap, weight) in kernel.enumerated() {
                            let shifted = padded.baseAddress! + tap
                            for x in 0..<width { out[x] += weight * shifted[x] }
                        }
                    }
                }
            }
        }
    }
    return result
}

/// Vertical pass: whole rows at a time, so the inner loop runs along contiguous memory.
private func blurColumns(_ plane: Plane, _ kernel: [Float]) -> Plane {
    let radius = kernel.count / 2, width = plane.width, height = plane.height
    var result = Plane(width: width, height: height)
    plane.pixels.withUnsafeBufferPointer { source in
        result.pixels.withUnsafeMutableBufferPointer { output in
            let output = UncheckedSendable(output)
            parallelChunks(height, itemCost: width) { rows in
                for y in rows {
                    let out = output.value.baseAddress! + y * width
                    out.initialize(repeating: 0, count: width)
                    for (tap, weight) in kernel.enumerated() {
                        let row = source.baseAddress! + min(max(y + tap - radius, 0), height - 1) * width
                        for x in 0..<width { out[x] += weight * row[x] }
                    }
                }
            }
        }
    }
    return result
}
