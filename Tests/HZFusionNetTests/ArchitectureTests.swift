import HybridZoom
import XCTest

@testable import HZFusionNet

final class ArchitectureTests: XCTestCase {
    /// The numbers model.py gives: `flops_per_pixel()` and `MULTIPLE`.
    func testConstantsMatchModelPy() {
        XCTAssertEqual(FusionArchitecture.flopsPerPixel, 3492)
        XCTAssertEqual(FusionArchitecture.multiple, 64)
        XCTAssertEqual(
            FusionArchitecture.layers.map(\.name),
            ["enc0", "enc1", "enc2a", "enc2b", "enc3a", "enc3b", "enc4", "dec3", "dec2", "dec1", "dec0", "head"])
        XCTAssertEqual(FusionArchitecture.cutReach, 256)
        XCTAssertEqual(FusionArchitecture.halo, 256)
    }

    /// Outputs cover the padded image once; each window is its output grown by the halo and
    /// clipped, on the 64-pixel grid.
    func testTilesCoverThePaddedImageOnce() {
        for (size, tileSize) in [
            (Size(width: 4032, height: 3024), 2048), (Size(width: 310, height: 250), 64),
            (Size(width: 1000, height: 70), 384),
        ] {
            let padded = Size(width: FusionArchitecture.padded(size.width), height: FusionArchitecture.padded(size.height))
            var covered = [Int](repeating: 0, count: padded.pixelCount / (64 * 64))
            for tile in tiles(for: size, tileSize: tileSize) {
                let (output, window) = (tile.output, tile.window)
                XCTAssertLessThanOrEqual(max(output.width, output.height), tileSize)
                XCTAssertEqual(window.x, max(0, output.x - 256))
                XCTAssertEqual(window.x + window.width, min(padded.width, output.x + output.width + 256))
                XCTAssertEqual(window.y, max(0, output.y - 256))
                XCTAssertEqual(window.y + window.height, min(padded.height, output.y + output.height + 256))
                XCTAssertTrue([output.x, output.y, output.width, output.height, window.width, window.height].allSatisfy { $0 % 64 == 0 })
                for y in stride(from: output.y, to: output.y + output.height, by: 64) {
                    for x in stride(from: output.x, to: output.x + output.width, by: 64) {
                        covered[y / 64 * (padded.width / 64) + x / 64] += 1
                    }
                }
            }
            XCTAssertEqual(Set(covered), [1], "\(size) in tiles of \(tileSize)")
        }
    }
}
