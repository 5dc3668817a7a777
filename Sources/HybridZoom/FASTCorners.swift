/// A corner found by `FASTCornerDetector`, at a pixel centre.
struct Corner: Sendable, Equatable {
    var x: Int
    var y: Int
    /// How far the circle's arc exceeds the threshold, summed: larger is a stronger corner.
    var score: Float
}

/// FAST-9 corners (Rosten & Drummond 2006): a pixel is a corner when at least 9 contiguous pixels
/// of the 16 on a radius-3 circle around it are all brighter than it by more than `threshold`, or
/// all darker. The strongest local maxima are kept per cell of a grid, so that the corners cover
/// the whole frame instead of crowding into its busiest part.
struct FASTCornerDetector: Sendable {
    /// The brightness step, in luma units, that a circle pixel must exceed to count.
    var threshold: Float
    /// Grid cells across the frame; the rows follow from the aspect ratio, so cells are square.
    var cellsAcross: Int
    /// At most this many corners, the strongest, are kept per cell.
    var cornersPerCell: Int
    /// Corners keep at least this far from the border (at least the circle's radius, 3).
    var margin: Int

    /// The corners of `plane`, cell by cell in raster order, strongest first within each cell.
    func corners(in plane: Plane) -> [Corner] {
        let margin = max(self.margin, circleRadius)
        guard plane.width - 2 * margin >= scoreLanes, plane.height > 2 * margin else { return [] }
        let scores = cornerScores(plane, margin: margin)
        return strongestPerCell(scores, grid: CellGrid(size: plane.size, margin: margin, cellsAcross: cellsAcross))
    }

    /// The corner score of every pixel inside the margin, 0 where it is not a corner. Eight
    /// neighbouring pixels are tested at once: their circle pixels are eight contiguous floats.
    private func cornerScores(_ plane: Plane, margin: Int) -> [Float] {
        let width = plane.width
        var scores = [Float](repeating: 0, count: plane.pixels.count)
        let circleOffsets = circle.map { $0.dy * width + $0.dx }
        // The last vector of a row overlaps the one before it rather than needing a scalar tail.
        let lastX = width - margin - scoreLanes
        plane.pixels.withUnsafeBufferPointer { pixels in
            circleOffsets.withUnsafeBufferPointer { circleOffsets in
                scores.withUnsafeMutableBufferPointer { scores in
                    let scores = UncheckedSendable(scores)
                    let test = SegmentTest(threshold: threshold, circleOffsets: circleOffsets)
                    parallelChunks(plane.height - 2 * margin) { rows in
                        for y in rows.lowerBound + margin..<rows.upperBound + margin {
                            var x = margin
                            while true {
                                let index = y * width + x
                                test.writeScores(around: pixels.baseAddress! + index, into: scores.value.baseAddress! + index)
                                if x == lastX { break }
                                x = min(x + scoreLanes, lastX)
                            }
                        }
                    }
                }
            }
        }
        return scores
    }

    /// Per cell, the non-maximum-suppressed corners with the highest scores. Cells are independent,
    /// so each writes its own fixed slots of one shared buffer.
    private func strongestPerCell(_ scores: [Float], grid: CellGrid) -> [Corner] {
        let slotsPerCell = cornersPerCell, width = grid.size.width
        var slots = [Corner](repeating: Corner(x: 0, y: 0, score: 0), count: grid.cellCount * slotsPerCell)
        var counts = [Int](repeating: 0, count: grid.cellCount)
        scores.withUnsafeBufferPointer { scores in
            slots.withUnsafeMutableBufferPointer { slots in
                counts.withUnsafeMutableBufferPointer { counts in
                    let slots = UncheckedSendable(slots), counts = UncheckedSendable(counts)
                    parallelChunks(grid.cellCount) { cells in
                        for cell in cells {
                            let kept = UnsafeMutableBufferPointer(
                                rebasing: slots.value[cell * slotsPerCell..<(cell + 1) * slotsPerCell])
                            counts.value[cell] = collectStrongest(in: grid.bounds(of: cell), scores, width: width, into: kept)
                        }
                    }
                }
            }
        }
        return (0..<grid.cellCount).flatMap { slots[$0 * slotsPerCell..<$0 * slotsPerCell + counts[$0]] }
    }

    /// Fills `kept` with the strongest local maxima of `scores` in `bounds`, strongest first, and
    /// returns how many there are.
    private func collectStrongest(
        in bounds: (x: Range<Int>, y: Range<Int>), _ scores: UnsafeBufferPointer<Float>,
        width: Int, into kept: UnsafeMutableBufferPointer<Corner>
    ) -> Int {
        var count = 0
        for y in bounds.y {
            for x in bounds.x {
                let index = y * width + x, score = scores[index]
                guard score > 0, count < kept.count || score > kept[count - 1].score,
                    isLocalMaximum(index, scores, width: width)
                else { continue }
                var slot = min(count, kept.count - 1)
                while slot > 0 && kept[slot - 1].score < score {
                    kept[slot] = kept[slot - 1]
                    slot -= 1
                }
                kept[slot] = Corner(x: x, y: y, score: score)
                count = min(count + 1, kept.count)
            }
        }
        return count
    }

    /// Non-maximum suppression: FAST fires on several neighbouring pixels of one corner.
    @inline(__always)
    private func isLocalMaximum(_ index: Int, _ scores: UnsafeBufferPointer<Float>, width: Int) -> Bool {
        let score = scores[index]
        for dy in -1...1 {
            for dx in -1...1 where scores[index + dy * width + dx] > score { return false }
        }
        return true
    }
}

/// The FAST-9 segment test on eight neighbouring pixels at once.
private struct SegmentTest {
    let threshold: Float
    /// The circle's pixels as offsets into the plane, in order around the circle.
    let circleOffsets: UnsafeBufferPointer<Int>

    /// Writes the scores of the eight pixels from `centre` on (0 where not a corner).
    @inline(__always)
    func writeScores(around centre: UnsafePointer<Float>, into scores: UnsafeMutablePointer<Float>) {
        guard mayHaveArc(centre) else { return }
        // No pixel has 9 of its 16 circle pixels both brighter and darker, so the sum is the score.
        let score = sideScore(centre, side: 1) + sideScore(centre, side: -1)
        UnsafeMutableRawPointer(scores).storeBytes(of: score, as: SIMD8<Float>.self)
    }

    /// The high-speed pretest: an arc of 9 of the 16 pixels includes two neighbouring compass
    /// points (pixels 0, 4, 8, 12), so lanes without such a pair need no further look. Most
    /// vectors in flat or smooth areas stop here.
    @inline(__always)
    private func mayHaveArc(_ centre: UnsafePointer<Float>) -> Bool {
        var brighter = SIMD8<UInt32>(repeating: 0), darker = SIMD8<UInt32>(repeating: 0)
        let value = load(centre)
        for bit in 0..<4 {
            let compassValue = load(centre + circleOffsets[4 * bit])
            brighter.replace(with: brighter | UInt32(1 << bit), where: compassValue .> value + threshold)
            darker.replace(with: darker | UInt32(1 << bit), where: compassValue .< value - threshold)
        }
        return (hasNeighbouringPair(brighter) | hasNeighbouringPair(darker)).max() != 0
    }

    /// Per lane, the FAST paper's score for circle pixels brighter than the centre (`side` 1) or
    /// darker (−1): how far they exceed the threshold, summed, where 9 contiguous ones do, else 0.
    /// Non-maximum suppression then prefers strong, clean corners.
    @inline(__always)
    private func sideScore(_ centre: UnsafePointer<Float>, side: Float) -> SIMD8<Float> {
        let limit = side * load(centre) + threshold
        var exceeding = SIMD8<UInt32>(repeating: 0), excess = SIMD8<Float>(repeating: 0)
        for (bit, offset) in circleOffsets.enumerated() {
            let difference = side * load(centre + offset) - limit
            exceeding.replace(with: exceeding | UInt32(1 << bit), where: difference .> 0)
            excess.replace(with: excess + difference, where: difference .> 0)
        }
        // Tested as floats: comparing the integer lanes compiles to lane-by-lane code, this does not.
        let arcs = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: nineContiguous(exceeding)))
        return excess.replacing(with: 0, where: arcs .== 0)
    }
}

/// A grid of about square cells over a plane's area inside a margin.
private struct CellGrid {
    let size: Size
    let margin: Int
    let columns: Int
    let rows: Int

    init(size: Size, margin: Int, cellsAcross: Int) {
        self.size = size
        self.margin = margin
        columns = max(1, cellsAcross)
        rows = max(1, Int((Double(columns * size.height) / Double(size.width)).rounded()))
    }

    var cellCount: Int { columns * rows }

    func bounds(of cell: Int) -> (x: Range<Int>, y: Range<Int>) {
        let innerWidth = size.width - 2 * margin, innerHeight = size.height - 2 * margin
        let column = cell % columns, row = cell / columns
        return (
            margin + innerWidth * column / columns..<margin + innerWidth * (column + 1) / columns,
            margin + innerHeight * row / rows..<margin + innerHeight * (row + 1) / rows
        )
    }
}

private let circleRadius = 3
private let scoreLanes = 8

/// The 16 pixels of a radius-3 digital circle, in order around it.
private let circle: [(dx: Int, dy: Int)] = [
    (0, -3), (1, -3), (2, -2), (3, -1), (3, 0), (3, 1), (2, 2), (1, 3),
    (0, 3), (-1, 3), (-2, 2), (-3, 1), (-3, 0), (-3, -1), (-2, -2), (-1, -3),
]

// The bit tests below answer per lane with an integer, non-zero for true, so that their answers
// combine with plain bitwise operators.

/// Non-zero lanes: the 16-bit circle mask has 9 contiguous set bits, counting around the circle
/// (the mask is doubled into 32 bits so that arcs through bit 15 → bit 0 are contiguous too).
@inline(__always)
private func nineContiguous(_ mask: SIMD8<UInt32>) -> SIMD8<UInt32> {
    let circular = mask | (mask &<< 16)
    var run = circular & (circular &>> 1)  // bit i: bits i…i+1 set
    run &= run &>> 2  // bits i…i+3
    run &= run &>> 4  // bits i…i+7
    return run & (circular &>> 8)  // bits i…i+8
}

/// Non-zero lanes: two neighbouring bits of a 4-bit compass mask are set (3 → 0 included).
@inline(__always)
private func hasNeighbouringPair(_ compass: SIMD8<UInt32>) -> SIMD8<UInt32> {
    compass & ((compass &>> 1) | (compass &<< 3)) & 0xF
}

@inline(__always)
private func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
}
