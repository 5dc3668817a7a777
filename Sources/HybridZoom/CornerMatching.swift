/// Mean-subtracted, unit-norm patches around corners, `MatchPatch.stride` floats each, so that the dot
/// product of two is their normalised cross-correlation: blind to gain and offset. A flat patch is
/// all zeros and correlates with nothing.
struct NormalisedPatches {
    let corners: [Corner]
    var values: [Float]

    init(around corners: [Corner], in plane: Plane) {
        self.corners = corners
        values = [Float](repeating: 0, count: corners.count * MatchPatch.stride)
        plane.pixels.withUnsafeBufferPointer { pixels in
            values.withUnsafeMutableBufferPointer { values in
                let values = UncheckedSendable(values)
                parallelChunks(corners.count) { range in
                    for index in range {
                        let start = index * MatchPatch.stride
                        let patch = UnsafeMutableBufferPointer(rebasing: values.value[start..<start + MatchPatch.area])
                        copyPatch(pixels, width: plane.width, centre: corners[index], into: patch)
                        normalise(patch)
                    }
                }
            }
        }
    }
}

/// The dot product of two stored patches.
@inline(__always)
func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
    let (a, b) = (UnsafeRawPointer(a), UnsafeRawPointer(b))
    var sum = SIMD8<Float>(repeating: 0)
    for byteOffset in stride(from: 0, to: MatchPatch.stride * MemoryLayout<Float>.stride, by: MemoryLayout<SIMD8<Float>>.stride) {
        sum +=
            a.loadUnaligned(fromByteOffset: byteOffset, as: SIMD8<Float>.self)
            * b.loadUnaligned(fromByteOffset: byteOffset, as: SIMD8<Float>.self)
    }
    return sum.sum()
}

/// A source corner matched to a reference corner, and the offset between them in working pixels.
struct CornerMatch {
    var source: Corner
    var offset: SIMD2<Float>
}

/// The best and second-best correlation of one patch among the candidates, and which was best.
struct BestCandidates {
    var index = -1
    var best: Float = -1
    var second: Float = -1

    /// Lowe's ratio test on patch distances, √(2 − 2·correlation) for unit vectors.
    var isDistinctive: Bool {
        1 - best < CoarseTuning.distinctivenessRatio * CoarseTuning.distinctivenessRatio * (1 - second)
    }
}

/// Pairs that are each other's best candidate within `reach` working pixels, correlate well, and
/// are clearly better than the runner-up: repeated texture and occluders give no pair.
func mutualMatches(_ source: NormalisedPatches, _ reference: NormalisedPatches, reach: Int) -> [CornerMatch] {
    let forward = bestCandidates(from: source, among: reference, reach: reach)
    let backward = bestCandidates(from: reference, among: source, reach: reach)
    return forward.indices.compactMap { index in
        let candidates = forward[index]
        guard candidates.index >= 0, backward[candidates.index].index == index,
            candidates.best >= CoarseTuning.minimumCorrelation, candidates.isDistinctive
        else { return nil }
        let from = source.corners[index], to = reference.corners[candidates.index]
        return CornerMatch(source: from, offset: SIMD2(Float(to.x - from.x), Float(to.y - from.y)))
    }
}

/// For each patch of `patches`, its best candidates among `others` within `reach` in x and y.
/// There are under a thousand corners, so every pair is checked against the reach.
func bestCandidates(
    from patches: NormalisedPatches, among others: NormalisedPatches,
    reach: Int
) -> [BestCandidates] {
    var result = [BestCandidates](repeating: BestCandidates(), count: patches.corners.count)
    patches.values.withUnsafeBufferPointer { mine in
        others.values.withUnsafeBufferPointer { theirs in
            result.withUnsafeMutableBufferPointer { result in
                let result = UncheckedSendable(result)
                parallelChunks(patches.corners.count) { range in
                    for index in range {
                        let corner = patches.corners[index]
                        var candidates = BestCandidates()
                        for (other, candidate) in others.corners.enumerated()
                        where abs(candidate.x - corner.x) <= reach && abs(candidate.y - corner.y) <= reach {
                            let score = dotProduct(
                                mine.baseAddress! + index * MatchPatch.stride,
                                theirs.baseAddress! + other * MatchPatch.stride)
                            if score > candidates.best {
                                candidates = BestCandidates(index: other, best: score, second: candidates.best)
                            } else {
                                candidates.second = max(candidates.second, score)
                            }
                        }
                        result.value[index] = candidates
                    }
                }
            }
        }
    }
    return result
}

/// The patch centred on `centre`, row by row.
func copyPatch(
    _ pixels: UnsafeBufferPointer<Float>, width: Int, centre: Corner,
    into patch: UnsafeMutableBufferPointer<Float>
) {
    for row in 0..<MatchPatch.side {
        let start = (centre.y + row - MatchPatch.radius) * width + centre.x - MatchPatch.radius
        for column in 0..<MatchPatch.side { patch[row * MatchPatch.side + column] = pixels[start + column] }
    }
}

/// Subtracts the mean and divides by the Euclidean norm of what remains, in place, and returns
/// that norm; a flat patch becomes all zeros and returns 0.
@discardableResult
func normalise(_ values: UnsafeMutableBufferPointer<Float>) -> Float {
    let mean = values.reduce(0, +) / Float(values.count)
    var sumOfSquares: Float = 0
    for index in values.indices {
        values[index] -= mean
        sumOfSquares += values[index] * values[index]
    }
    let norm = sumOfSquares.squareRoot()
    guard norm > flatPatchNorm else {
        values.update(repeating: 0)
        return 0
    }
    for index in values.indices { values[index] /= norm }
    return norm
}

/// Below this norm (luma units over a whole patch) a patch is flat: noise, not texture.
private let flatPatchNorm: Float = 1e-3

func chebyshevDistance(_ a: SIMD2<Float>, _ b: SIMD2<Float>) -> Float {
    let difference = a - b
    return max(abs(difference.x), abs(difference.y))
}

func distance(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double {
    let difference = a - b
    return (difference * difference).sum().squareRoot()
}
