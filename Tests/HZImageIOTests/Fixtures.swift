import Foundation
import HZHarness
import HybridZoom
import XCTest

/// The JPEGs in Fixtures/, adapted from real camera photos (see Fixtures/LICENSE.md).
enum Fixture: String, CaseIterable {
    /// Canon PowerShot SX530 HS, progressive 4:4:4, 320×240, little-endian EXIF.
    case canon = "canon-sx530hs"
    /// Xiaomi Mi A3, baseline 4:2:0, 500×375, big-endian EXIF, Orientation 3 (Rotate 180).
    case xiaomiRotate180 = "xiaomi-mi-a3-rotate180"
    /// Xiaomi Mi A3, baseline 4:2:0, 500×375, Orientation 1.
    case xiaomi = "xiaomi-mi-a3"
    /// The Canon picture as 320×240 grayscale, no EXIF.
    case gray
    /// The Rotate-180 picture in other colour layouts, 500×375, no EXIF.
    case sampling422WithRestarts = "sampling-422-restarts"
    case sampling440 = "sampling-440"
    case sampling411 = "sampling-411"

    func bytes() throws -> [UInt8] {
        let url = try XCTUnwrap(
            Bundle.module.url(
                forResource: rawValue, withExtension: "jpg",
                subdirectory: "Fixtures"))
        return Array(try Data(contentsOf: url))
    }
}

/// A copy of `bytes` with a few random bytes overwritten and, half the time, cut short.
/// Changes favour the first `headerBias` bytes, where markers and lengths live.
func mutated(_ bytes: [UInt8], headerBias: Int, using generator: inout SeededRandom) -> [UInt8] {
    var copy = bytes
    for _ in 0..<Int.random(in: 1...8, using: &generator) {
        let range = Bool.random(using: &generator) ? 0..<min(headerBias, copy.count) : copy.indices
        copy[Int.random(in: range, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
    }
    if Bool.random(using: &generator) {
        copy.removeLast(Int.random(in: 0..<copy.count, using: &generator))
    }
    return copy
}
