import Foundation

/// A small SVG builder for the harness's charts and contact sheets: shapes, text and embedded images
/// in pixel units, appended in drawing order. Text and attribute values are escaped, so titles from
/// file names or user input cannot break the markup.
public struct SVGDocument: Sendable {
    public enum TextAnchor: String, Sendable { case start, middle, end }
    public enum FontWeight: String, Sendable { case normal, bold }

    public let width: Double
    public let height: Double
    private var elements: [String] = []

    /// An empty canvas of `width × height` pixels, filled with `background` unless it is nil.
    public init(width: Double, height: Double, background: String? = "white") {
        self.width = width
        self.height = height
        if let background { rect(x: 0, y: 0, width: width, height: height, fill: background) }
    }

    /// The complete document. Fonts name DejaVu Sans first because Debian's librsvg pulls it in.
    public var markup: String {
        let size = "width=\"\(svgNumber(width))\" height=\"\(svgNumber(height))\""
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" \(size) viewBox="0 0 \(svgNumber(width)) \(svgNumber(height))" \
            font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">
            \(elements.joined(separator: "\n"))
            </svg>

            """
    }

    public mutating func rect(
        x: Double, y: Double, width: Double, height: Double, fill: String,
        stroke: String? = nil, strokeWidth: Double = 1
    ) {
        append(
            "rect",
            [
                "x": svgNumber(x), "y": svgNumber(y), "width": svgNumber(width), "height": svgNumber(height),
                "fill": fill, "stroke": stroke, "stroke-width": stroke.map { _ in svgNumber(strokeWidth) },
            ])
    }

    /// A straight line; `dash` is an SVG dash pattern such as "6 4".
    public mutating func line(
        x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
        width: Double = 1, dash: String? = nil
    ) {
        append(
            "line",
            [
                "x1": svgNumber(x1), "y1": svgNumber(y1), "x2": svgNumber(x2), "y2": svgNumber(y2),
                "stroke": stroke, "stroke-width": svgNumber(width), "stroke-dasharray": dash,
            ])
    }

    public mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 1) {
        let coordinates = points.map { "\(svgNumber($0.x)),\(svgNumber($0.y))" }.joined(separator: " ")
        append(
            "polyline",
            [
                "points": coordinates, "fill": "none", "stroke": stroke,
                "stroke-width": svgNumber(width), "stroke-linejoin": "round",
            ])
    }

    public mutating func circle(
        cx: Double, cy: Double, r: Double, fill: String,
        stroke: String? = nil, strokeWidth: Double = 1
    ) {
        append(
            "circle",
            [
                "cx": svgNumber(cx), "cy": svgNumber(cy), "r": svgNumber(r), "fill": fill,
                "stroke": stroke, "stroke-width": stroke.map { _ in svgNumber(strokeWidth) },
            ])
    }

    /// Text whose baseline starts, is centred or ends at (x, y), per `anchor`.
    public mutating func text(
        _ text: String, x: Double, y: Double, size: Double = 14,
        anchor: TextAnchor = .start, weight: FontWeight = .normal, fill: String = "black"
    ) {
        append(
            "text",
            [
                "x": svgNumber(x), "y": svgNumber(y), "font-size": svgNumber(size),
                "text-anchor": anchor.rawValue, "font-weight": weight.rawValue, "fill": fill,
            ],
            content: escapedForXML(text))
    }

    /// An image stretched to the rectangle; `href` is typically a `dataURI(mimeType:bytes:)`.
    public mutating func image(x: Double, y: Double, width: Double, height: Double, href: String) {
        append(
            "image",
            [
                "x": svgNumber(x), "y": svgNumber(y), "width": svgNumber(width),
                "height": svgNumber(height), "preserveAspectRatio": "none", "href": href,
            ])
    }

    /// Elements drawn by `content`, shifted by (dx, dy) as one group.
    public mutating func group(translatingBy dx: Double, _ dy: Double, _ content: (inout SVGDocument) -> Void) {
        var inner = SVGDocument(width: width, height: height, background: nil)
        content(&inner)
        elements.append("<g transform=\"translate(\(svgNumber(dx)) \(svgNumber(dy)))\">")
        elements += inner.elements
        elements.append("</g>")
    }

    /// A `data:` URI that embeds `bytes` (base64) in the document.
    public static func dataURI(mimeType: String, bytes: [UInt8]) -> String {
        "data:\(mimeType);base64,\(Data(bytes).base64EncodedString())"
    }

    /// Appends `<name …/>` or `<name …>content</name>`, leaving out attributes whose value is nil.
    private mutating func append(_ name: String, _ attributes: KeyValuePairs<String, String?>, content: String? = nil) {
        let attributeText = attributes.compactMap { key, value in
            value.map { " \(key)=\"\(escapedForXML($0))\"" }
        }.joined()
        elements.append(content.map { "<\(name)\(attributeText)>\($0)</\(name)>" } ?? "<\(name)\(attributeText)/>")
    }
}

/// `text` safe inside XML content and double- or single-quoted attributes. Control characters that
/// XML 1.0 cannot hold at all are dropped.
func escapedForXML(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "'": escaped += "&apos;"
        case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
        case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: continue
        default: escaped.unicodeScalars.append(scalar)
        }
    }
    return escaped
}

/// Coordinates with at most two decimals and no exponent, which keeps the markup short and readable.
func svgNumber(_ value: Double) -> String {
    precondition(value.isFinite, "SVG coordinates must be finite, got \(value)")
    let rounded = (value * 100).rounded() / 100
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    var text = String(format: "%.2f", rounded)
    while text.hasSuffix("0") { text.removeLast() }
    return text
}
