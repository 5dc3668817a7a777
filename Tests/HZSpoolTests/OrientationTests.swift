import Foundation
import HZImageIO
import HZSpool
import HZTestSupport
import HybridZoom
import XCTest

/// A rig mounted on its side or upside down writes its frames turned, with EXIF orientation 6, 8
/// or 3: decoded upright, they are fused exactly as often as the same frames stored upright.
final class OrientationTests: XCTestCase {
    func testTurnedFramesAreFusedAsOftenAsUprightOnes() throws {
        let config = try DaemonConfig.parse("fusion: {method: classical}\n", relativeTo: "/")
        let pipeline = config.pipeline(try FusionStage(config.fusion))
        var fused: [Int: Int] = [:]
        for seed in 1...4 {
            let pair = try TestFrames.simulatedPair(frame: Size(width: 320, height: 240), seed: UInt64(seed))
            for orientation in [1, 3, 6, 8] {
                let processed = try CaptureFiles.process(
                    wide: try stored(pair.wide, orientation: orientation), tele: try stored(pair.tele, orientation: orientation),
                    pipeline: pipeline, intake: config.intake)
                XCTAssertEqual(processed.primary.image.size, Size(width: 320, height: 240), "upright whatever the storage")
                if processed.decision == .fused { fused[orientation, default: 0] += 1 }
            }
        }
        XCTAssertEqual(fused[1], 4, "every upright pair is fused: \(fused)")
        XCTAssertEqual(fused, [1: 4, 3: 4, 6: 4, 8: 4])
    }

    /// The JPEG a camera would write for `jpeg`'s picture when mounted so that its EXIF says
    /// `orientation`: the pixels stored turned the other way, the tag set.
    private func stored(_ jpeg: [UInt8], orientation: Int) throws -> [UInt8] {
        let decoded = try decodeJPEG(jpeg, maxPixels: 1_000_000)
        let undo = [1: 1, 3: 3, 6: 8, 8: 6][orientation]!
        var exif = decoded.exif
        exif.orientation = orientation
        return try encodeJPEG(decoded.image.oriented(exifOrientation: undo).floats, quality: 92, exifPayload: exif.app1Payload())
    }
}
