import Foundation
import HZHarness
import HZTestSupport
import HybridZoom
import XCTest

final class ContactSheetTests: XCTestCase {
    func testSheetRendersToAPNGOfItsSize() throws {
        let folder = try ScratchFolder("hzsr-sheet")
        var sheet = ContactSheet(heading: "Capture 0001 <maps>", columns: 3, tileWidth: 120)
        sheet.add("W crop", TestFrames.scene(Size(width: 96, height: 64)))
        sheet.add("T", TestFrames.scene(Size(width: 60, height: 80), seed: 2))
        sheet.add("output & more", TestFrames.scene(Size(width: 150, height: 100), seed: 3))
        let flow = Plane(width: 40, height: 30, pixels: (0..<1200).map { Float($0 % 40) / 20 - 1 })
        sheet.add("flow", flowImage(u: flow, v: Plane(width: 40, height: 30, value: 0.3)))
        sheet.add("a title far too long to fit under its tile at all", grayImage(flow))

        // Rows hold tiles of heights 80, 160, 80 and 90, 90: each row is as tall as its tallest
        // tile plus a 30-pixel caption; margins 20, heading 48, gaps 16.
        let expected = Size(width: 20 + 3 * 120 + 2 * 16 + 20, height: 20 + 48 + (160 + 30) + 16 + (90 + 30) + 20)
        XCTAssertEqual(sheet.size, expected)
        let svg = try sheet.svg()
        XCTAssertEqual(svg.components(separatedBy: "data:image/jpeg;base64,/9j/").count - 1, 5, "five JPEG tiles")
        XCTAssertTrue(svg.contains("Capture 0001 &lt;maps&gt;"))
        XCTAssertTrue(svg.contains("output &amp; more"))
        XCTAssertTrue(svg.contains(">a title far t…<"), "titles too wide for the tile are shortened")

        try sheet.render(to: "\(folder.path)/sheet.png")
        XCTAssertEqual(try PNGFile.size(at: "\(folder.path)/sheet.png"), expected)
    }

    func testAnEmptySheetIsJustItsHeading() {
        let sheet = ContactSheet(heading: "nothing yet", columns: 4, tileWidth: 100)
        XCTAssertEqual(sheet.size, Size(width: 140, height: 88))
    }
}
