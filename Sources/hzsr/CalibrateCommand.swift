import ArgumentParser
import Foundation
import HZSpool
import HybridZoom

/// `hzsr calibrate DIR`: the rig's fixed geometry (T's centre in W, the zoom ratio, T's turn)
/// measured over many pairs, as the config block to paste.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate", abstract: "Measure the rig's geometry from captured pairs and print the rig: block for the config.",
        discussion: """
            DIR is a spool, the daemon's archive, or any folder of pairs (W/NAME.jpg with T/NAME.jpg, NAME_W.jpg with \
            NAME_T.jpg, or frames paired by timestamp as the daemon pairs them). Each pair's coarse alignment says where \
            T's view lies in W; the median over the pairs is the rig's geometry, which a pair's parallax or a \
            mismatched pair does not move. Scenes with texture near and far across the whole frame work best.
            """)

    @Argument(help: "A spool, an archive or a folder of pairs.") var folder: String
    @Option(help: "A config file: camera folders and patterns, timestamps, and the calibration to start from.") var config: String?
    @Option(help: "The zoom ratio to start from, if far from the config's (T focal length / W focal length).")
    var zoomRatio: Double?

    func validate() throws {
        guard zoomRatio.map({ $0 > 1 && $0.isFinite }) ?? true else { throw ValidationError("--zoom-ratio must be above 1") }
    }

    func run() throws {
        let config = try loadConfig(self.config)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw FileError(path: folder, problem: "no such folder")
        }
        let found = PairFinder(config: config).pairs(in: folder)
        for frame in found.unpaired { report("skipped \(frame): no partner frame") }
        guard !found.pairs.isEmpty else { throw FileError(path: folder, problem: "no W/T pairs in it") }
        var start = config.rig
        if let zoomRatio { start.zoomRatio = zoomRatio }
        let lumas = found.pairs.compactMap { pair in load(pair, config.intake) }

        // Twice: the second pass starts from the first's answer, where T and `I_src` nearly
        // agree and the matching is at its most precise.
        var rig = start, measured: [RigCalibration] = [], problems: [String] = []
        for _ in 0..<2 {
            (measured, problems) = ([], [])
            for (pair, wide, tele) in lumas {
                do {
                    measured.append(try rig.measured(wide: wide, tele: tele))
                } catch {
                    problems.append("\(pair.wide) + \(pair.tele): \(error)")
                }
            }
            guard let median = RigCalibration.median(of: measured) else { break }
            rig = median
        }
        problems.forEach(report)
        guard !measured.isEmpty else {
            throw FileError(
                path: folder,
                problem: "no pair's views overlap enough to measure the rig (\(found.pairs.count) pairs, reasons above): no config to print")
        }
        print(summary(rig, measured, pairs: found.pairs.count, wideSize: lumas[0].1.size))
    }

    private func load(_ pair: PairFinder.Pair, _ intake: DaemonConfig.Intake) -> (PairFinder.Pair, BytePlane, BytePlane)? {
        do {
            let decoded = try CaptureFiles.decode(wide: try readInput(pair.wide), tele: try readInput(pair.tele), intake: intake)
            return (pair, decoded.wide.image.y, decoded.tele.image.y)
        } catch let error as InputError {
            report("skipped \(error.role == .wide ? pair.wide : pair.tele): \(error.underlying)")
        } catch {
            report("skipped \(error)")
        }
        return nil
    }

    private func summary(_ rig: RigCalibration, _ measured: [RigCalibration], pairs: Int, wideSize: Size) -> String {
        func spread(_ values: [Double]) -> Double {
            let middle = median(values)
            return median(values.map { abs($0 - middle) })
        }
        let offsetSpread = max(
            spread(measured.map(\.centerOffset.x)) * Double(wideSize.width), spread(measured.map(\.centerOffset.y)) * Double(wideSize.height))
        return """
            # Measured on \(measured.count) of \(pairs) pairs; half of them lie within ±\(String(format: "%.2f", offsetSpread)) W pixels \
            of the centre,
            # ±\(String(format: "%.3f", 100 * spread(measured.map(\.zoomRatio)) / rig.zoomRatio)) % of the ratio and \
            ±\(String(format: "%.3f", spread(measured.map(\.rotation))))° of the turn.
            rig:
              zoom_ratio: \(String(format: "%.4f", rig.zoomRatio))
              center_offset: [\(String(format: "%.5f", rig.centerOffset.x)), \(String(format: "%.5f", rig.centerOffset.y))]
              rotation: \(String(format: "%.3f", rig.rotation))
            """
    }
}
