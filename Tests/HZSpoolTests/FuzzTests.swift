import Foundation
import HZImageIO
import HZSpool
import HybridZoom
import XCTest

/// A seeded mutation fuzzer over what reads untrusted bytes: the JPEG marker walk, the decoder
/// (and the EXIF reader inside it, and on its own), and the config reader. The seeds are the
/// committed camera fixtures and the shipped config. A trap ends the whole test process, so each
/// case is written to a file before it runs: a crash leaves its input behind, named at the start.
/// A case that takes over 2 s counts as a hang.
///
/// `make test` runs 60 s of it; `make fuzz` 10 minutes (`HZSR_FUZZ_SECONDS`); `HZSR_FUZZ_SEED`
/// repeats a run.
final class FuzzTests: XCTestCase {
    private static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testMutatedInputsNeverTrapOrHang() throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = Double(environment["HZSR_FUZZ_SECONDS"] ?? "") ?? 60
        let seed = UInt64(environment["HZSR_FUZZ_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64(UInt32.max))
        let fixtures = Self.repository.appendingPathComponent("Tests/HZImageIOTests/Fixtures")
        let jpegs = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { $0.hasSuffix(".jpg") }.sorted()
            .map { [UInt8](try Data(contentsOf: fixtures.appendingPathComponent($0))) }
        let config = [UInt8](try Data(contentsOf: Self.repository.appendingPathComponent("Config/hzsrd.yaml")))
        XCTAssertGreaterThan(jpegs.count, 5)

        let casePath = FileManager.default.temporaryDirectory.appendingPathComponent("hzsr-fuzz-case-\(seed)").path
        print("fuzzing for \(seconds) s with HZSR_FUZZ_SEED=\(seed); a crash leaves its input in \(casePath)")
        var random = SeededRandom(seed: seed)
        var counts = (jpeg: 0, config: 0, decoded: 0)
        let deadline = Date() + seconds
        while Date() < deadline {
            let fuzzConfig = random.below(8) == 0
            var bytes = fuzzConfig ? config : jpegs[random.below(jpegs.count)]
            mutate(&bytes, &random)
            try Data(bytes).write(to: URL(fileURLWithPath: casePath))
            let start = Date()
            if fuzzConfig {
                _ = try? DaemonConfig.parse(String(decoding: bytes, as: UTF8.self), relativeTo: "/srv")
                counts.config += 1
            } else {
                let structure = JPEGStructure(scanning: bytes)
                if let range = structure.exifPayloadRange, range.upperBound <= bytes.count {
                    _ = try? EXIF(app1Payload: Array(bytes[range]))
                }
                if (try? decodeJPEG(bytes, maxPixels: 4_000_000, usingCorruptData: random.below(2) == 0)) != nil {
                    counts.decoded += 1
                }
                counts.jpeg += 1
            }
            let elapsed = Date().timeIntervalSince(start)
            if elapsed > 2 {
                let kept = casePath + "-hang"
                try? FileManager.default.copyItem(atPath: casePath, toPath: kept)
                XCTFail("a case took \(elapsed) s: \(kept)")
            }
        }
        try? FileManager.default.removeItem(atPath: casePath)
        print("fuzzed \(counts.jpeg) JPEGs (\(counts.decoded) still decoded) and \(counts.config) configs: no trap, no hang")
        XCTAssertGreaterThan(counts.jpeg, 100)
    }

    /// One to eight edits of the kinds that break parsers: bit flips, special byte values,
    /// markers, length fields, cuts, duplicated and deleted runs, inserted bytes.
    private func mutate(_ bytes: inout [UInt8], _ random: inout SeededRandom) {
        for _ in 0...random.below(8) {
            guard !bytes.isEmpty else { return }
            let at = random.below(bytes.count)
            switch random.below(8) {
            case 0: bytes[at] ^= UInt8(1 << random.below(8))
            case 1: bytes[at] = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE][random.below(6)]
            case 2:  // a marker: start of frame, tables, scan, restart, APP1, end
                bytes[at] = 0xFF
                if at + 1 < bytes.count { bytes[at + 1] = [0xC0, 0xC2, 0xC4, 0xDA, 0xDB, 0xDD, 0xD0, 0xE1, 0xD9, 0xD8][random.below(10)] }
            case 3:  // the 16-bit length after a marker
                if let marker = bytes[at...].firstIndex(of: 0xFF), marker + 3 < bytes.count {
                    bytes[marker + 2 + random.below(2)] = UInt8(random.below(256))
                }
            case 4: bytes.removeLast(random.below(min(bytes.count, 4096)) + 1)
            case 5:
                let run = bytes[at..<min(bytes.count, at + 1 + random.below(256))]
                bytes.insert(contentsOf: run, at: random.below(bytes.count))
            case 6: bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.below(64)))
            default: bytes.insert(contentsOf: (0..<1 + random.below(16)).map { _ in UInt8(random.below(256)) }, at: at)
            }
        }
    }
}

extension SeededRandom {
    fileprivate mutating func below(_ count: Int) -> Int { Int.random(in: 0..<count, using: &self) }
}
