import Foundation
import FoundationXML
import HZTestSupport
import HybridZoom
import XCTest

@testable import HZHarness

final class SVGTests: XCTestCase {
    func testTextIsEscaped() {
        XCTAssertEqual(escapedForXML(#"a < b && "c" > 'd'"#), "a &lt; b &amp;&amp; &quot;c&quot; &gt; &apos;d&apos;")
        XCTAssertEqual(escapedForXML("tab\there\u{7}bell"), "tab\therebell", "XML cannot hold BEL")
        XCTAssertEqual(escapedForXML("naïve → ✓"), "naïve → ✓")
    }

    /// Hostile titles still give well-formed XML whose text reads back unchanged.
    func testDocumentWithHostileTextParses() {
        let title = #"</text><script>alert("x")</script> & 'more'"#
        var svg = SVGDocument(width: 200, height: 100)
        svg.text(title, x: 10, y: 20, anchor: .middle, weight: .bold)
        svg.rect(x: 0, y: 0, width: 10, height: 10, fill: #"red" onload="x"#)
        let collector = TextCollector()
        let parser = XMLParser(data: Data(svg.markup.utf8))
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "\(parser.parserError.map(String.init(describing:)) ?? "")")
        XCTAssertEqual(collector.texts, [title])
        XCTAssertEqual(collector.elements, ["svg", "rect", "text", "rect"])
    }

    func testElementsAndNumbers() {
        var svg = SVGDocument(width: 320.5, height: 100, background: nil)
        svg.line(x1: 0, y1: 1.005, x2: 3.10, y2: 1e-7, stroke: "#333", dash: "6 4")
        svg.group(translatingBy: 10, 20) { group in
            group.circle(cx: 1, cy: 2, r: 3, fill: "blue")
            group.polyline([(0, 0), (1.25, 2)], stroke: "green", width: 2)
        }
        svg.image(x: 0, y: 0, width: 2, height: 1, href: SVGDocument.dataURI(mimeType: "image/png", bytes: [1, 2, 3]))
        let markup = svg.markup
        XCTAssertTrue(markup.contains(#"width="320.5" height="100" viewBox="0 0 320.5 100""#))
        XCTAssertTrue(markup.contains(##"<line x1="0" y1="1" x2="3.1" y2="0" stroke="#333" stroke-width="1" stroke-dasharray="6 4"/>"##), markup)
        XCTAssertTrue(markup.contains(#"<g transform="translate(10 20)">"#))
        XCTAssertTrue(markup.contains(#"<circle cx="1" cy="2" r="3" fill="blue"/>"#))
        XCTAssertTrue(markup.contains(#"points="0,0 1.25,2""#))
        XCTAssertTrue(markup.contains(#"href="data:image/png;base64,AQID""#))
        XCTAssertFalse(markup.contains("<rect"), "no background was asked for")
    }

    func testRasterizingGivesAPNGOfTheDocumentSize() throws {
        let folder = try ScratchFolder("hzsr-svg")
        var svg = SVGDocument(width: 64, height: 40)
        svg.circle(cx: 32, cy: 20, r: 15, fill: "#D55E00")
        svg.text("hi", x: 32, y: 24, anchor: .middle)
        try rasterizeSVG(svg.markup, to: "\(folder.path)/out.png")
        XCTAssertEqual(try PNGFile.size(at: "\(folder.path)/out.png"), Size(width: 64, height: 40))
    }

    func testAMissingToolSaysHowToInstallIt() {
        XCTAssertThrowsError(try rasterizeSVG("<svg/>", to: "/nonexistent.png", searchPath: "/nonexistent")) { error in
            XCTAssertEqual(String(describing: error), "rsvg-convert not found: install librsvg2-bin (make deps does)")
        }
    }

    func testAFailureCarriesTheToolsMessage() throws {
        let folder = try ScratchFolder("hzsr-svg")
        XCTAssertThrowsError(try rasterizeSVG("this is not svg", to: "\(folder.path)/out.png")) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.hasPrefix("rsvg-convert exited with status"), message)
            XCTAssertGreaterThan(message.count, "rsvg-convert exited with status 1: ".count, "stderr is included")
        }
    }
}

/// Collects element names and text content from an XML parse.
private final class TextCollector: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var texts: [String] = []
    private var text: String?

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        elements.append(name)
        if name == "text" { text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        text? += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let text { texts.append(text) }
        if name == "text" { text = nil }
    }
}
