import ArgumentParser
import Foundation
import HZImageIO
import HZSpool
import HybridZoom

/// `hzsr fuse W.jpg T.jpg -o out.jpg`: one capture through the daemon's own code path.
struct FuseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuse", abstract: "Fuse one W and T frame into an output JPEG, as the daemon would.")

    @Argument(help: "The wide frame (JPEG).") var wide: String
    @Argument(help: "The tele frame (JPEG).") var tele: String
    @Option(
        name: .shortAndLong,
        help:
            "Where to write the output JPEG (the first zoom; each other zoom beside it as NAME@<zoom>x.jpg; with output.maps, the maps in NAME.maps/)."
    )
    var output: String
    @Option(help: "A config file for rig and output settings (default: built-in defaults).") var config: String?

    func run() throws {
        let settings = try loadConfig(config)
        let pipeline = settings.pipeline(try FusionStage(settings.fusion))
        let processed: EncodedCapture
        do {
            processed = try CaptureFiles.process(
                wide: try readInput(wide), tele: try readInput(tele), pipeline: pipeline,
                config: settings)
        } catch let error as InputError {
            throw FileError(path: error.role == .wide ? wide : tele, problem: "\(error)")
        }
        let stages = processed.timings.stages.map { "\($0) \(ms(processed.timings[named: $0]))" }
        let paths = Publisher.imageNames(primary: output, zooms: processed.outputs.map(\.zoom))
        for (path, image) in zip(paths, processed.outputs) {
            guard FileManager.default.createFile(atPath: path, contents: Data(image.jpeg)) else {
                throw ValidationError("cannot write \(path)")
            }
            print(
                "\(path): \(image.size) at zoom \(String(format: "%.2f", image.zoom)), "
                    + "\(processed.reason); \(stages.joined(separator: ", ")), total \(ms(processed.timings.total))")
        }
        try writeMaps(processed.maps)
    }

    /// With `output.maps` on, the maps beside the output as the daemon puts them beside a
    /// sidecar: `out.maps/flow.jpg`, …
    private func writeMaps(_ maps: [EncodedMap]) throws {
        guard !maps.isEmpty else { return }
        let folder = Publisher.mapsFolder(pair: (output as NSString).deletingPathExtension)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for map in maps {
            guard FileManager.default.createFile(atPath: "\(folder)/\(map.file)", contents: Data(map.jpeg)) else {
                throw ValidationError("cannot write \(folder)/\(map.file)")
            }
        }
        print("\(folder)/: \(maps.map(\.file).joined(separator: ", "))")
    }
}

/// One line on stderr: what a command skipped or could not do, while it goes on.
func report(_ line: String) {
    FileHandle.standardError.write(Data("\(line)\n".utf8))
}

func loadConfig(_ path: String?) throws -> DaemonConfig {
    let directory = FileManager.default.currentDirectoryPath
    guard let path else { return try DaemonConfig.parse("", relativeTo: directory) }
    return try DaemonConfig.load(from: path, relativeTo: directory)
}

extension DaemonConfig {
    /// For commands that score the output against a capture's target, which is T's view at T's
    /// size: a config's other zooms, size and maps are set aside.
    func scoringTeleView() -> DaemonConfig {
        var config = self
        (config.output.zooms, config.output.size, config.output.maps) = ([.tele], .tele, false)
        return config
    }
}

func readInput(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw FileError(path: path, problem: "cannot read it") }
    return [UInt8](data)
}

/// A photo that captures are simulated from, decoded; a problem with it names the file.
func decodePhoto(_ path: String) throws -> YCbCrImage {
    let bytes = try readInput(path)
    do { return try decodeJPEG(bytes, maxPixels: 200_000_000).image.floats } catch { throw FileError(path: path, problem: "\(error)") }
}

/// A problem with one of the files a command was given, named by its path.
struct FileError: Error, CustomStringConvertible {
    let path: String
    let problem: String
    var description: String { "\(path): \(problem)" }
}

func ms(_ value: Double) -> String { String(format: "%.0f ms", value) }

extension Size {
    /// `WIDTHxHEIGHT`, as the command line gives sizes.
    init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else { return nil }
        self.init(width: parts[0], height: parts[1])
    }
}
