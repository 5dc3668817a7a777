import Foundation
import HZImageIO
import HybridZoom

/// A real capture made ready for scoring without a second, better camera: the reduced-resolution
/// protocol. W and T are both shrunk by the zoom ratio r; then T, shrunk, still sees its part
/// of the scene as finely as W does at full resolution, so W's own full-resolution pixels of
/// that region are what fusing the shrunk frames should approach.
public struct RealCapture: Sendable {
    public var name: String
    public var wide: CaptureFrame
    public var tele: CaptureFrame
    /// W's full-resolution luma of the region T covers, on the grid of T as given.
    public var target: Plane
    /// Where T looks in W: the rig's calibration, or for a prepared capture its ratio and the centre.
    public var rig: RigCalibration
}

/// Reads a folder of real captures, in either of two layouts:
/// - rig pairs, as a rig's spool holds them (`W/NAME.jpg` with `T/NAME.jpg`, or `NAME_W.jpg` with
///   `NAME_T.jpg`), shrunk here by the rig's zoom ratio, the target cut from W where the
///   calibration puts T's view;
/// - prepared captures (`NAME/wide.jpg`, `NAME/tele.jpg`, `NAME/target_y.npy`, optionally
///   `NAME/real.json` with `zoom_ratio`), already shrunk, as `Scripts/make-real-set` makes them
///   from pairs of two views of a scene.
/// A pair that cannot be read is a problem naming its file; the others are read.
public enum RealPairs {
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var file: String
        public var problem: String
        public var description: String { "\(file): \(problem)" }
    }

    public static func load(_ folder: String, rig: RigCalibration, maxPixels: Int) -> (captures: [RealCapture], problems: [Problem]) {
        var captures: [RealCapture] = [], problems: [Problem] = []
        for (name, source) in sources(in: folder) {
            do {
                captures.append(try source.capture(name: name, rig: rig, maxPixels: maxPixels))
            } catch let problem as Problem {
                problems.append(problem)
            } catch {
                problems.append(Problem(file: "\(folder)/\(name)", problem: "\(error)"))
            }
        }
        return (captures, problems)
    }

    private enum Source {
        case rig(wide: String?, tele: String?)
        case prepared(folder: String)

        func capture(name: String, rig: RigCalibration, maxPixels: Int) throws -> RealCapture {
            switch self {
            case .rig(let widePath, let telePath):
                guard let widePath else { throw Problem(file: telePath ?? name, problem: "no W frame of the same name") }
                guard let telePath else { throw Problem(file: widePath, problem: "no T frame of the same name") }
                return try reduced(name: name, wide: decode(widePath, maxPixels), tele: decode(telePath, maxPixels), rig: rig)
            case .prepared(let folder):
                let ratio = try zoomRatio(in: "\(folder)/real.json") ?? rig.zoomRatio
                let target: Plane
                do { target = try NumpyFile.readPlane(at: "\(folder)/target_y.npy") } catch {
                    throw Problem(file: "\(folder)/target_y.npy", problem: "\(error)")
                }
                let tele = CaptureFrame(try decode("\(folder)/tele.jpg", maxPixels))
                guard target.size == tele.image.size else {
                    throw Problem(
                        file: "\(folder)/target_y.npy", problem: "is \(target.size), but tele.jpg is \(tele.image.size): they must be the same grid")
                }
                return RealCapture(
                    name: name, wide: CaptureFrame(try decode("\(folder)/wide.jpg", maxPixels)), tele: tele, target: target,
                    rig: RigCalibration(zoomRatio: ratio))
            }
        }

        /// `zoom_ratio` of a prepared capture's `real.json`; nil when there is no such file.
        private func zoomRatio(in path: String) throws -> Double? {
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw Problem(file: path, problem: "is not a JSON object")
            }
            guard let ratio = object["zoom_ratio"] as? Double, ratio.isFinite, ratio > 1 else {
                throw Problem(file: path, problem: "needs zoom_ratio, a number above 1 (T's focal length over W's)")
            }
            return ratio
        }
    }

    /// Each capture of the folder by name, sorted: prepared sub-folders, then rig pairs.
    private static func sources(in folder: String) -> [(String, Source)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var result: [String: Source] = [:]
        for name in names where FileManager.default.fileExists(atPath: "\(folder)/\(name)/wide.jpg") {
            result[name] = .prepared(folder: "\(folder)/\(name)")
        }
        func add(_ name: String, wide: String? = nil, tele: String? = nil) {
            guard case .rig(let w, let t)? = result[name] ?? .rig(wide: nil, tele: nil) else { return }
            result[name] = .rig(wide: wide ?? w, tele: tele ?? t)
        }
        for role in ["W", "T"] {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: "\(folder)/\(role)")) ?? [] where isJPEG(file) {
                let stem = (file as NSString).deletingPathExtension
                role == "W" ? add(stem, wide: "\(folder)/W/\(file)") : add(stem, tele: "\(folder)/T/\(file)")
            }
        }
        for file in names where isJPEG(file) {
            let stem = (file as NSString).deletingPathExtension
            if stem.hasSuffix("_W") { add(String(stem.dropLast(2)), wide: "\(folder)/\(file)") }
            if stem.hasSuffix("_T") { add(String(stem.dropLast(2)), tele: "\(folder)/\(file)") }
        }
        return result.sorted { $0.key < $1.key }
    }

    private static func isJPEG(_ file: String) -> Bool {
        ["jpg", "jpeg"].contains((file as NSString).pathExtension.lowercased())
    }

    private static func decode(_ path: String, _ maxPixels: Int) throws -> DecodedJPEG {
        guard let data = FileManager.default.contents(atPath: path) else { throw Problem(file: path, problem: "cannot read it") }
        do { return try decodeJPEG([UInt8](data), maxPixels: maxPixels) } catch { throw Problem(file: path, problem: "\(error)") }
    }

    /// Both frames shrunk by r, and the target cut from W at full resolution where the
    /// calibration puts T's view, on the shrunk T's grid.
    private static func reduced(name: String, wide: DecodedJPEG, tele: DecodedJPEG, rig: RigCalibration) -> RealCapture {
        let r = rig.zoomRatio
        /// Shrunk, and stored in 8 bits as a camera of that resolution would store it.
        func shrink(_ image: CameraImage) -> CameraImage {
            let size = Size(
                width: max(1, Int((Double(image.size.width) / r).rounded())), height: max(1, Int((Double(image.size.height) / r).rounded())))
            return CameraImage(quantizing: DigitalZoom.render(image, crop: image.size.bounds, to: size))
        }
        var (smallWide, smallTele) = (CaptureFrame(wide), CaptureFrame(tele))
        (smallWide.image, smallTele.image) = (shrink(wide.image), shrink(tele.image))
        let view = DigitalZoom.teleView(wide: wide.image.size, calibration: rig, teleSize: smallTele.image.size)
        return RealCapture(
            name: name, wide: smallWide, tele: smallTele, target: DigitalZoom.render(wide.image.y, view: view, to: smallTele.image.size),
            rig: rig)
    }
}

/// What fusion made of one real capture, against W's digital zoom, both scored on the target.
public struct RealScores: Codable, Sendable {
    public var capture: String
    public var decision: String
    public var reason: String
    public var psnrWideZoom: Double
    public var psnrFused: Double
    public var ssimWideZoom: Double
    public var ssimFused: Double
    /// The share of 64×64 tiles where the output is more than 0.3 dB below W's digital zoom.
    public var tilesWorse: Double

    public var gain: Double { psnrFused - psnrWideZoom }

    /// Scores `output` (the pipeline's, on the target's grid) and `wideZoom` (W's digital zoom at T's view).
    public init(capture: String, decision: CaptureDecision, reason: String, output: Plane, wideZoom: Plane, target: Plane) {
        self.capture = capture
        (self.decision, self.reason) = (decision.description, reason)
        (psnrWideZoom, psnrFused) = (psnr(wideZoom, target), psnr(output, target))
        (ssimWideZoom, ssimFused) = (ssim(wideZoom, target), ssim(output, target))
        tilesWorse = fractionWorse(tilePSNRs(output, target), than: tilePSNRs(wideZoom, target), byMoreThan: 0.3)
    }

    /// One Markdown table of several captures.
    public static func table(_ scores: [RealScores]) -> String {
        var lines = [
            "| Capture | Decision | PSNR W zoom (dB) | PSNR output (dB) | Gain (dB) | SSIM W zoom | SSIM output | Tiles worse |",
            "|:--|:--|--:|--:|--:|--:|--:|--:|",
        ]
        for s in scores {
            lines.append(
                String(
                    format: "| %@ | %@ | %.2f | %.2f | %+.2f | %.4f | %.4f | %.1f%% |", s.capture, s.decision, s.psnrWideZoom,
                    s.psnrFused, s.gain, s.ssimWideZoom, s.ssimFused, s.tilesWorse * 100))
        }
        return lines.joined(separator: "\n")
    }
}
