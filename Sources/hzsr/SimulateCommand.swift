import ArgumentParser
import Foundation
import HZImageIO
import HybridZoom

/// `hzsr simulate`: a rig simulator that drops W + T pairs made from a real photo into a spool.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Make W and T frames from one photo and drop them into a spool the way a rig would.")

    @Argument(help: "A photograph (JPEG) to use as the scene.") var photo: String
    @Option(help: "The spool folder to write into.") var spool: String
    @Option(help: "How many pairs.") var count = 1
    @Option(help: "Pairs per second.") var rate = 1.0
    @Option(help: "Zoom ratio r = T focal length / W focal length.") var ratio = 2.0
    @Option(help: "Frame size WIDTHxHEIGHT of both cameras (default: the photo's size / r).") var size: String?
    @Option(help: "How files are written: \(WriteMode.allCases.map(\.rawValue).joined(separator: ", ")), or 'mixed' to take turns.")
    var write = "mixed"
    @Option(help: "'folders' (spool/W/…, spool/T/…) or 'names' (…_W.jpg, …_T.jpg in the spool).") var layout = "folders"
    @Option(help: "Seconds between W's and T's timestamps (shutter skew).") var skew = 0.004
    @Option(help: "JPEG quality of the frames.") var quality = 92

    func validate() throws {
        guard ["folders", "names"].contains(layout) else { throw ValidationError("--layout must be folders or names") }
        guard write == "mixed" || WriteMode(rawValue: write) != nil else { throw ValidationError("unknown --write \(write)") }
        guard rate > 0, count >= 0, ratio > 1 else { throw ValidationError("--rate and --ratio must be positive, --ratio above 1") }
        _ = try frameSize()
    }

    func run() throws {
        let source = try decodeJPEG(try readInput(photo), maxPixels: 200_000_000)
        let rig = RigSimulator(photo: source.image, ratio: ratio, frameSize: try frameSize())
        let (wide, tele) = (rig.wide, rig.tele)
        let wideFocal = source.exif.focalLength ?? 4.7
        for index in 0..<count {
            let start = Date()
            let stamp = Date(timeIntervalSince1970: (start.timeIntervalSince1970 * 1000).rounded() / 1000)
            let name = String(format: "IMG_%04d", index + 1)
            for (role, pixels, focal, offset) in [("W", wide, wideFocal, 0.0), ("T", tele, wideFocal * ratio, skew)] {
                let exif = RigSimulator.exif(role: role, time: stamp + offset, focalLength: focal, like: source.exif)
                let path = layout == "folders" ? "\(spool)/\(role)/\(name).jpg" : "\(spool)/\(name)_\(role).jpg"
                let jpeg = try encodeJPEG(pixels, quality: quality, exifPayload: exif.app1Payload())
                try mode(index).write(jpeg, to: path)
                print("\(mode(index).rawValue) \(path)")
            }
            let pause = 1 / rate - Date().timeIntervalSince(start)
            if index + 1 < count, pause > 0 { Thread.sleep(forTimeInterval: pause) }
        }
    }

    private func mode(_ index: Int) -> WriteMode {
        WriteMode(rawValue: write) ?? WriteMode.allCases[index % WriteMode.allCases.count]
    }

    private func frameSize() throws -> Size? {
        guard let size else { return nil }
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ $0 >= 16 }) else { throw ValidationError("--size must be WIDTHxHEIGHT") }
        return Size(width: parts[0], height: parts[1])
    }
}
