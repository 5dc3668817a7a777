import Foundation
import HZImageIO
import HybridZoom

/// A grid of titled images under a heading, for comparing the pipeline's stages at a glance
/// (W crop, T, output, flow, occlusion…): SVG with the images embedded as JPEGs, rasterized to PNG.
public struct ContactSheet: Sendable {
    public var heading: String
    public var columns: Int
    /// Every image is scaled to this width, keeping its aspect ratio.
    public var tileWidth: Int
    public var entries: [(title: String, image: YCbCrImage)] = []

    private static let margin = 20, gap = 16, headingHeight = 48, captionHeight = 30
    private static let captionSize = 14.0

    public init(heading: String, columns: Int = 3, tileWidth: Int = 360) {
        precondition(columns > 0 && tileWidth > 0, "a contact sheet needs columns and a tile width")
        self.heading = heading
        self.columns = columns
        self.tileWidth = tileWidth
    }

    public mutating func add(_ title: String, _ image: YCbCrImage) {
        entries.append((title, image))
    }

    /// The sheet's pixel size: the PNG that `render` writes has it too.
    public var size: Size {
        let usedColumns = max(min(columns, entries.count), 1)
        let (margin, gap) = (Self.margin, Self.gap)
        let rowsHeight = rowHeights().reduce(0) { $0 + $1 + Self.captionHeight + gap }
        return Size(
            width: 2 * margin + usedColumns * tileWidth + (usedColumns - 1) * gap,
            height: margin + Self.headingHeight + rowsHeight - (entries.isEmpty ? 0 : gap) + margin)
    }

    /// The sheet as an SVG document, each image as a base64 JPEG (quality 90) scaled to `tileWidth`.
    public func svg() throws -> String {
        let (margin, gap) = (Self.margin, Self.gap)
        var svg = SVGDocument(width: Double(size.width), height: Double(size.height))
        svg.text(heading, x: Double(margin), y: Double(margin + 26), size: 22, weight: .bold)
        var top = margin + Self.headingHeight
        for (row, height) in rowHeights().enumerated() {
            for column in 0..<columns {
                let index = row * columns + column
                guard index < entries.count else { break }
                try drawTile(entries[index], at: (x: margin + column * (tileWidth + gap), y: top), into: &svg)
            }
            top += height + Self.captionHeight + gap
        }
        return svg.markup
    }

    /// Writes the sheet as a PNG of `size` pixels (needs `rsvg-convert`).
    public func render(to pngPath: String) throws {
        try rasterizeSVG(try svg(), to: pngPath)
    }

    /// `tileWidth` across and at most twice that down: a frame shaped like a strip stays in a
    /// tile, and the sheet within the height a PNG can have.
    private func tileSize(_ image: YCbCrImage) -> Size {
        let aspect = Double(image.size.height) / Double(max(image.size.width, 1))
        let width = Double(tileWidth) * min(1, 2 / aspect)
        return Size(width: max(Int(width.rounded()), 1), height: max(Int((width * aspect).rounded()), 1))
    }

    /// The height of each row of tiles: its tallest image.
    private func rowHeights() -> [Int] {
        stride(from: 0, to: entries.count, by: columns).map { start in
            entries[start..<min(start + columns, entries.count)].map { tileSize($0.image).height }.max()!
        }
    }

    private func drawTile(
        _ entry: (title: String, image: YCbCrImage), at origin: (x: Int, y: Int),
        into svg: inout SVGDocument
    ) throws {
        let size = tileSize(entry.image)
        let jpeg = try encodeJPEG(thumbnail(entry.image, size: size), quality: 90, exifPayload: nil)
        let (x, y) = (Double(origin.x), Double(origin.y))
        svg.image(
            x: x, y: y, width: Double(size.width), height: Double(size.height),
            href: SVGDocument.dataURI(mimeType: "image/jpeg", bytes: jpeg))
        svg.rect(
            x: x, y: y, width: Double(size.width), height: Double(size.height), fill: "none",
            stroke: "#999999")
        svg.text(
            fitted(entry.title), x: x + Double(size.width) / 2, y: y + Double(size.height) + 20,
            size: Self.captionSize, anchor: .middle)
    }

    /// The title shortened with an ellipsis where it would run past its tile (DejaVu Sans averages
    /// about 0.6 em per character).
    private func fitted(_ title: String) -> String {
        let limit = max(Int(Double(tileWidth) / (Self.captionSize * 0.6)), 2)
        return title.count <= limit ? title : title.prefix(limit - 1) + "…"
    }
}

/// `image` resampled to `size` with full-resolution (4:4:4) chroma, whatever its subsampling.
private func thumbnail(_ image: YCbCrImage, size: Size) -> YCbCrImage {
    func scaled(_ plane: Plane) -> Plane {
        resample(plane, from: plane.size.bounds, to: size)
    }
    return YCbCrImage(y: scaled(image.y), cb: scaled(image.cb), cr: scaled(image.cr))
}
