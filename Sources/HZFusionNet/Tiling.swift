import HybridZoom

/// A rectangle of whole pixels.
struct PixelRect: Hashable {
    var x: Int, y: Int, width: Int, height: Int

    var size: Size { Size(width: width, height: height) }

    func overlaps(_ other: PixelRect) -> Bool {
        x < other.x + other.width && other.x < x + width && y < other.y + other.height && other.y < y + height
    }
}

/// One run of the network: the `output` pixels it produces and the `window` of the padded image
/// it reads to produce them, both in padded-image coordinates and on the 64-pixel grid.
struct Tile: Equatable {
    var output: PixelRect
    var window: PixelRect

    /// The output pixels inside an image of `size`: the padded image's last tiles reach past it.
    func outputInside(_ size: Size) -> PixelRect {
        PixelRect(
            x: output.x, y: output.y,
            width: min(output.x + output.width, size.width) - output.x,
            height: min(output.y + output.height, size.height) - output.y)
    }
}

/// The tiles covering an image of `size`, padded to multiples of 64 as `fuse` pads it, with
/// outputs of at most `tileSize` × `tileSize` (a multiple of 64), in row-major order.
///
/// Each window is its output grown by the halo on every side and clipped to the padded image, so
/// a window edge is either the padded image's edge, where PyTorch's untiled run pads with zeros
/// too, or at least the cut reach away from every output pixel: tiling changes no output
/// beyond float rounding. The padded sides are split into equal spans, which keeps the largest
/// window (and so the workspace) as small as the number of tiles allows: 3072 pixels with
/// 2048-pixel tiles become 2 × 1536 rather than 2048 + 1024, for the same total work.
func tiles(for size: Size, tileSize: Int) -> [Tile] {
    precondition(
        tileSize > 0 && tileSize % FusionArchitecture.multiple == 0,
        "tile size \(tileSize) is not a positive multiple of \(FusionArchitecture.multiple)")
    let columns = spans(FusionArchitecture.padded(size.width), tileSize: tileSize)
    let rows = spans(FusionArchitecture.padded(size.height), tileSize: tileSize)
    return rows.flatMap { row in
        columns.map { column in
            Tile(
                output: PixelRect(
                    x: column.output.lowerBound, y: row.output.lowerBound,
                    width: column.output.count, height: row.output.count),
                window: PixelRect(
                    x: column.window.lowerBound, y: row.window.lowerBound,
                    width: column.window.count, height: row.window.count))
        }
    }
}

/// One axis of `tiles(for:tileSize:)`: `length` (a multiple of 64) cut into as few spans of at
/// most `tileSize` as possible, of equal length on the 64-pixel grid (the last may be shorter).
private func spans(_ length: Int, tileSize: Int) -> [(output: Range<Int>, window: Range<Int>)] {
    let count = (length + tileSize - 1) / tileSize
    let step = FusionArchitecture.padded((length + count - 1) / count)
    let halo = FusionArchitecture.halo
    return stride(from: 0, to: length, by: step).map { start in
        let end = min(start + step, length)
        return (start..<end, max(0, start - halo)..<min(length, end + halo))
    }
}

/// The widest and the tallest of `tiles`' windows (not empty): what a worker's buffers are sized for.
func largestWindow(of tiles: [Tile]) -> Size {
    Size(width: tiles.map(\.window.width).max()!, height: tiles.map(\.window.height).max()!)
}
