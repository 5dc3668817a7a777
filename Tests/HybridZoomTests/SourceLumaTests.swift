import XCTest

@testable import HybridZoom

final class SourceLumaTests: XCTestCase {
    /// W's luma in 8 bits, textured, and T's view in it: a crop at an odd offset, enlarged 2.3×.
    private let wide = BytePlane(quantizing: SyntheticPlanes.texture(Size(width: 203, height: 157), seed: 5))
    private let view = TeleView(crop: Rect(x: 31.25, y: 17.5, width: 120.5, height: 90.25))
    private let size = Size(width: 277, height: 207)

    private func made() -> SourceLuma { SourceLuma(wide: wide, view: view, size: size, largestHeld: 0) }

    func testMadeAsReadIsTheRenderedPlaneToTheBit() {
        let source = made()
        XCTAssertTrue(source.isMadeAsRead)
        XCTAssertEqual(source.plane, DigitalZoom.render(wide, view: view, to: size))
    }

    /// Any rectangle, at any offset and of any width (not whole groups of eight columns), and
    /// rows lent whole: the rendered plane's pixels there.
    func testEveryPartIsTheRenderedPlanesPart() {
        let source = made(), rendered = DigitalZoom.render(wide, view: view, to: size)
        for (rows, columns) in [(0..<1, 0..<277), (5..<70, 3..<11), (100..<207, 250..<277), (37..<38, 9..<10), (0..<207, 64..<200)] {
            var part = [Float](repeating: -1, count: rows.count * (columns.count + 2))
            part.withUnsafeMutableBufferPointer {
                source.write(rows: rows, columns: columns, into: $0.baseAddress!, rowLength: columns.count + 2)
            }
            for y in rows {
                for x in columns {
                    XCTAssertEqual(part[(y - rows.lowerBound) * (columns.count + 2) + x - columns.lowerBound], rendered[x, y], "(\(x), \(y))")
                }
            }
            source.withRows(rows) { pixels in
                for y in rows { for x in 0..<size.width { XCTAssertEqual(pixels[(y - rows.lowerBound) * size.width + x], rendered[x, y]) } }
            }
        }
    }

    /// Stages that read it band by band (the resampler, both ways) read the same values.
    func testResamplingItReadsTheSameValues() {
        let rendered = DigitalZoom.render(wide, view: view, to: size)
        for target in [Size(width: 64, height: 48), Size(width: 400, height: 300)] {
            XCTAssertEqual(resample(made(), from: size.bounds, to: target), resample(rendered, from: size.bounds, to: target))
        }
    }

    /// Small frames, turned views and views shrunk in T's grid are held.
    func testHeldWhereMakingItIsNotWorthItOrNotBuilt() {
        XCTAssertFalse(SourceLuma(wide: wide, view: view, size: size, largestHeld: size.pixelCount).isMadeAsRead)
        var turned = view
        turned.rotation = 0.5
        let held = SourceLuma(wide: wide, view: turned, size: size, largestHeld: 0)
        XCTAssertFalse(held.isMadeAsRead)
        XCTAssertEqual(held.plane, DigitalZoom.render(wide, view: turned, to: size))
        XCTAssertFalse(SourceLuma(wide: wide, view: view, size: Size(width: 60, height: 45), largestHeld: 0).isMadeAsRead)
    }
}
