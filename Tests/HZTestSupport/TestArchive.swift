import Foundation

/// A daemon's archive as `hzsr reprocess` reads it: `archive/2026-09-21/<pair>/` with W/, T/ and
/// manifest.json, for `count` simulated pairs.
public enum TestArchive {
    /// Writes the pairs below `scratch/archive`; the pair at `brokenTele` gets a T cut short.
    public static func write(in scratch: ScratchFolder, count: Int, brokenTele: Int? = nil) throws {
        for index in 0..<count {
            let id = "20260921-1413\(String(format: "%02d", 20 + index)).250_p\(index)", folder = "archive/2026-09-21/\(id)"
            let time = Date(timeIntervalSince1970: 1_790_000_000 + Double(index))
            let pair = try TestFrames.simulatedPair(time: time, seed: UInt64(index + 1))
            try scratch.write(pair.wide, to: "\(folder)/W/p\(index).jpg")
            try scratch.write(index == brokenTele ? Array(pair.tele.prefix(600)) : pair.tele, to: "\(folder)/T/p\(index).jpg")
            let inputs = ["W", "T"].map {
                #"{"role": "\#($0)", "name": "\#($0)/p\#(index).jpg", "timestamp": "2026-09-21T14:13:\#(20 + index).250Z", "timestamp_source": "exif"}"#
            }
            let manifest = #"{"id": "\#(id)", "day": "2026-09-21", "attempts": 1, "inputs": [\#(inputs.joined(separator: ", "))]}"#
            try scratch.write(Array(manifest.utf8), to: "\(folder)/manifest.json")
        }
    }
}
