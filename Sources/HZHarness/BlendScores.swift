import Foundation
import HybridZoom

/// Whether the blend weight finds what is wrong in a capture, against the simulator's ground
/// truth, on the maps' grid: the weight should be ≤ 0.1 where T is occluded, defocused or
/// misaligned (our flow more than 1 full-resolution pixel off the true one), and ≥ 0.8 in clean
/// textured regions, where T's detail is what fusion is for.
public struct BlendScores: Codable, Sendable, Equatable {
    /// Pixels of a region and how many of them meet its bar.
    public struct Region: Codable, Sendable, Equatable {
        public var pixels: Int
        public var meeting: Int
        public var share: Double { pixels > 0 ? Double(meeting) / Double(pixels) : .nan }

        static func + (a: Region, b: Region) -> Region { Region(pixels: a.pixels + b.pixels, meeting: a.meeting + b.meeting) }
    }

    public static let rejectedBelow: Float = 0.1
    public static let keptAbove: Float = 0.8
    /// Local standard deviation of the clean target (5×5, on the maps' grid) above which a region
    /// counts as textured: below it, T has no detail to add and either weight is harmless.
    public static let textureThreshold: Float = 0.02

    public var occluded: Region
    public var defocused: Region
    public var misaligned: Region
    public var cleanTextured: Region
    /// The defocus map on its own (flagging: ≥ 0.5), on textured pixels T sees: where T is truly
    /// defocused (it should flag them) and where it is in focus (it should not).
    public var defocusFlagsDefocused: Region?
    public var defocusFlagsInFocus: Region?

    /// `weight`, `flow` (I_src → T, in pixels of its grid) and the defocus map on the maps'
    /// grid, against a capture's truth on the same grid.
    public init(weight: Plane, flow: FlowField, defocusMap: Plane? = nil, truth blendTruth: BlendTruth) {
        precondition(weight.size == blendTruth.grid, "blend weight \(weight.size), truth on \(blendTruth.grid)")
        let (truth, defocus, texture) = (blendTruth.flow, blendTruth.defocus, blendTruth.texture)
        let toFullPixels = blendTruth.fullPixelsPerGridPixel
        var regions = [Region](repeating: Region(pixels: 0, meeting: 0), count: 6)
        for i in 0..<blendTruth.grid.pixelCount where truth.visible.pixels[i] > 0 || truth.occluded.pixels[i] > 0 {
            let du = flow.u.pixels[i] - truth.flow.u.pixels[i], dv = flow.v.pixels[i] - truth.flow.v.pixels[i]
            let flags = [
                truth.occluded.pixels[i] > 0, defocus.pixels[i] >= 0.5,
                truth.visible.pixels[i] > 0 && (du * du + dv * dv).squareRoot() * toFullPixels > 1,
            ]
            for (region, flagged) in flags.enumerated() where flagged {
                regions[region].pixels += 1
                if weight.pixels[i] <= Self.rejectedBelow { regions[region].meeting += 1 }
            }
            if !flags.contains(true), texture.pixels[i] >= Self.textureThreshold {
                regions[3].pixels += 1
                if weight.pixels[i] >= Self.keptAbove { regions[3].meeting += 1 }
            }
            if let defocusMap, !flags[0], texture.pixels[i] >= Self.textureThreshold {
                let region = flags[1] ? 4 : 5
                regions[region].pixels += 1
                if defocusMap.pixels[i] >= 0.5 { regions[region].meeting += 1 }
            }
        }
        (occluded, defocused, misaligned, cleanTextured) = (regions[0], regions[1], regions[2], regions[3])
        if defocusMap != nil { (defocusFlagsDefocused, defocusFlagsInFocus) = (regions[4], regions[5]) }
    }

    init(
        occluded: Region, defocused: Region, misaligned: Region, cleanTextured: Region, defocusFlagsDefocused: Region?,
        defocusFlagsInFocus: Region?
    ) {
        (self.occluded, self.defocused, self.misaligned, self.cleanTextured) = (occluded, defocused, misaligned, cleanTextured)
        (self.defocusFlagsDefocused, self.defocusFlagsInFocus) = (defocusFlagsDefocused, defocusFlagsInFocus)
    }

    /// The regions of several captures pooled: each pixel counts once, whichever capture it is in.
    public static func pooled(_ scores: [BlendScores]) -> BlendScores? {
        guard let first = scores.first else { return nil }
        return scores.dropFirst().reduce(first) { sum, next in
            BlendScores(
                occluded: sum.occluded + next.occluded, defocused: sum.defocused + next.defocused,
                misaligned: sum.misaligned + next.misaligned, cleanTextured: sum.cleanTextured + next.cleanTextured,
                defocusFlagsDefocused: sum.defocusFlagsDefocused.flatMap { a in next.defocusFlagsDefocused.map { a + $0 } },
                defocusFlagsInFocus: sum.defocusFlagsInFocus.flatMap { a in next.defocusFlagsInFocus.map { a + $0 } })
        }
    }
}

/// A capture's ground truth on the maps' grid, read once for every method scored on it.
public struct BlendTruth: Sendable {
    public let grid: Size
    let flow: FlowGroundTruth
    let defocus: Plane
    /// The clean target's local deviation: where T has detail to add.
    let texture: Plane
    let fullPixelsPerGridPixel: Float

    /// `target` is the capture's `target_y.npy`, already read by the caller.
    public init(folder: String, target: Plane, grid: Size) throws {
        let rect = target.size.bounds
        self.grid = grid
        flow = try FlowGroundTruth(folder: folder, size: grid)
        defocus = resample(try NumpyFile.readMask(at: "\(folder)/defocus.npy"), from: rect, to: grid)
        texture = localDeviation(resample(target, from: rect, to: grid))
        fullPixelsPerGridPixel = Float(target.width) / Float(grid.width)
    }
}

/// Standard deviation over each pixel's 5×5 neighbourhood (clipped at the edges).
private func localDeviation(_ plane: Plane) -> Plane {
    var result = Plane(width: plane.width, height: plane.height)
    for y in 0..<plane.height {
        for x in 0..<plane.width {
            var sum: Float = 0, squares: Float = 0, count: Float = 0
            for j in max(0, y - 2)...min(plane.height - 1, y + 2) {
                for i in max(0, x - 2)...min(plane.width - 1, x + 2) {
                    let value = plane[i, j]
                    (sum, squares, count) = (sum + value, squares + value * value, count + 1)
                }
            }
            let mean = sum / count
            result[x, y] = max(squares / count - mean * mean, 0).squareRoot()
        }
    }
    return result
}
