import ArgumentParser
import Foundation
import HZHarness
import HZImageIO
import HybridZoom

/// `hzsr simulate`: the dual-rig simulator. With `--spool` it drops W + T pairs made from one
/// photo into a spool the way a rig writes them; with `--set` it writes an evaluation or training
/// set with ground truth (layout: `CaptureSet`).
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a W + T rig from real photos: pairs into a spool, or a capture set with ground truth.",
        discussion: """
            hzsr simulate PHOTO.jpg --spool demo/spool --count 6 --rate 0.5
            hzsr simulate --set 20 --split eval --out .cache/sets/eval
            """)

    @Argument(help: "With --spool: the photograph (JPEG) to use as the scene.") var photo: String?
    @Option(help: "Drop pairs into this spool folder.") var spool: String?
    @Option(help: "Write a capture set of this many captures (to --out).") var set: Int?
    @Option(help: "With --set: the set's folder.") var out: String?
    @Option(help: "With --set: the folder of photos (make photos fills it).") var photos = ".cache/photos"
    @Option(help: "With --set: the photo list with the train/eval split.") var photoList = "Data/photos.tsv"
    @Option(help: "With --set: which side of the split to use, train or eval.") var split = "eval"
    @Option(help: "With --set: only these photos of the split, comma-separated (for example the night shots).")
    var only: String?
    @Option(help: "With --set: 'day' (random daylight exposures) or 'ladder' (bright day down to ISO 6400 night).")
    var exposure = "day"
    @Option(
        help: """
            What the rig adds to each capture: 'tethered' (T turned and scaled a little, lens distortion and fall-off, \
            near objects, movers within 0.1 s, each camera's own processing), 'handheld' (the same, seconds apart) or \
            'classic' (the first simulator: offset, parallax along a fixed baseline, defocus, occluders).
            """)
    var rig = "tethered"
    @Option(help: "Zoom ratio r = T focal length / W focal length.") var ratio = 2.0
    @Option(help: "Frame size WIDTHxHEIGHT of both cameras (default: the photo's size / r, at most --max-width wide).")
    var size: String?
    @Option(help: "Widest default frame.") var maxWidth = 1536
    @Option(help: "Seed of the first capture (each capture i uses seed + i).") var seed: UInt64 = 1
    @Option(help: "With --spool: how many pairs.") var count = 1
    @Option(help: "With --spool: pairs per second.") var rate = 1.0
    @Option(help: "With --spool: how files are written: \(WriteMode.allCases.map(\.rawValue).joined(separator: ", ")), or 'mixed' to take turns.")
    var write = "mixed"
    @Option(help: "With --spool: 'folders' (spool/W/…, spool/T/…) or 'names' (…_W.jpg, …_T.jpg).") var layout = "folders"
    @Option(help: "With --spool: seconds between W's and T's timestamps (shutter skew).") var skew = 0.004

    func validate() throws {
        guard (spool == nil) != (set == nil) else { throw ValidationError("give either --spool or --set") }
        guard spool == nil || photo != nil else { throw ValidationError("--spool needs a PHOTO") }
        guard set == nil || out != nil else { throw ValidationError("--set needs --out") }
        guard ["day", "ladder"].contains(exposure) else { throw ValidationError("--exposure must be day or ladder") }
        guard ranges != nil else { throw ValidationError("--rig must be tethered, handheld or classic") }
        guard ["folders", "names"].contains(layout) else { throw ValidationError("--layout must be folders or names") }
        guard write == "mixed" || WriteMode(rawValue: write) != nil else { throw ValidationError("unknown --write \(write)") }
        guard rate > 0, count >= 0, ratio > 1, ratio.isFinite else { throw ValidationError("--rate must be positive and --ratio above 1") }
        _ = try frameSize()
    }

    func run() throws {
        if let spool { try dropPairs(into: spool) } else if let set, let out { try writeSet(count: set, to: out) }
    }

    private func dropPairs(into spool: String) throws {
        let source = try decodePhoto(photo!)
        let frame = try frameSize(for: source, photo: photo!)
        let parameters = RigParameters.draw(
            seed: seed, frameSize: frame, zoomRatio: ratio, exposure: .automatic(sceneEV100: 12), ranges: ranges!)
        let capture = RigSimulation(photo: source, parameters: parameters).capture(at: Date())
        for index in 0..<count {
            let start = Date()
            let name = String(format: "IMG_%04d", index + 1)
            for (role, image, exif, offset, quality) in [
                ("W", capture.wide, capture.wideEXIF, 0.0, parameters.wideJPEGQuality),
                ("T", capture.tele, capture.teleEXIF, skew, parameters.teleJPEGQuality),
            ] {
                let jpeg = try encodeJPEG(image, quality: quality, exifPayload: exif.restamped(start + offset).app1Payload())
                let path = layout == "folders" ? "\(spool)/\(role)/\(name).jpg" : "\(spool)/\(name)_\(role).jpg"
                try mode(index).write(jpeg, to: path)
                print("\(mode(index).rawValue) \(path)")
            }
            let pause = 1 / rate - Date().timeIntervalSince(start)
            if index + 1 < count, pause > 0 { Thread.sleep(forTimeInterval: pause) }
        }
    }

    private func writeSet(count: Int, to folder: String) throws {
        var names = try PhotoList(contentsOf: photoList).names(split: split)
        if let only {
            let wanted = only.split(separator: ",").map(String.init)
            if let unknown = wanted.first(where: { !names.contains($0) }) {
                throw ValidationError("\(unknown) is not a \(split) photo of \(photoList)")
            }
            names = wanted
        }
        guard !names.isEmpty else { throw ValidationError("\(photoList) lists no \(split) photos") }
        var captures: [String] = []
        // One capture a second from a fixed moment, so a set is the same bytes on every run.
        let firstMoment = Date(timeIntervalSince1970: 1_767_225_600)
        for index in 0..<count {
            let name = names[index % names.count]
            let source = try decodePhoto("\(photos)/\(name)")
            let frame = try frameSize(for: source, photo: "\(photos)/\(name)")
            let light: Exposure = exposure == "ladder" ? .ladder(index, of: count) : .automatic(sceneEV100: 4 + Double((seed &+ UInt64(index)) % 11))
            let parameters = RigParameters.draw(seed: seed &+ UInt64(index), frameSize: frame, zoomRatio: ratio, exposure: light, ranges: ranges!)
            let capture = RigSimulation(photo: source, parameters: parameters).capture(at: firstMoment + Double(index))
            let id = String(format: "%04d", index)
            try CaptureSet.write(capture, photo: name, to: "\(folder)/\(id)")
            captures.append(id)
            print(
                "\(folder)/\(id): \(name), \(frame), ISO \(light.wideISO)/\(light.teleISO), offset \(parameters.teleOffset.map { String(format: "%.1f", $0) }.joined(separator: ","))"
                    + String(format: ", turned %.2f°, scaled %.3f", parameters.teleRotation, parameters.teleScale)
                    + "\(parameters.occluders > 0 ? ", \(parameters.occluders) occluder(s)" : "")"
                    + "\(parameters.nearObjects > 0 ? ", \(parameters.nearObjects) near object(s)" : "")"
                    + "\(parameters.movers > 0 ? String(format: ", %d mover(s) over %.2f s", parameters.movers, parameters.timeGap) : "")")
        }
        try CaptureSet.writeManifest(
            .init(
                split: split, zoomRatio: ratio, captures: captures, photos: Array(names.prefix(count)),
                command: CommandLine.arguments.joined(separator: " ")), to: folder)
    }

    private var ranges: SimulationRanges? {
        ["tethered": .tethered, "handheld": .handheld, "classic": .classic][rig]
    }

    private func mode(_ index: Int) -> WriteMode {
        WriteMode(rawValue: write) ?? WriteMode.allCases[index % WriteMode.allCases.count]
    }

    private func frameSize() throws -> Size? {
        guard let size else { return nil }
        return try Size(simulatedFrame: size)
    }

    /// `--size`, or the largest frame whose T view the photo covers at full detail.
    private func frameSize(for source: YCbCrImage, photo: String) throws -> Size {
        if let given = try frameSize() { return given }
        let frame = RigSimulation.frameSize(photo: source.size, zoomRatio: ratio, maximumWidth: maxWidth)
        guard frame.width >= 16, frame.height >= 16 else {
            throw FileError(path: photo, problem: "is \(source.size): too small to make frames of at least 16×16 at zoom \(ratio)")
        }
        return frame
    }
}

extension Size {
    /// A frame size the simulator makes, from `--size WIDTHxHEIGHT`: both even and at least 16.
    init(simulatedFrame text: String) throws {
        guard let frame = Size(parsing: text), [frame.width, frame.height].allSatisfy({ $0 >= 16 && $0 % 2 == 0 }) else {
            throw ValidationError("--size must be WIDTHxHEIGHT, both even and at least 16")
        }
        self = frame
    }
}
