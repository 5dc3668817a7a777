import Foundation
import HZImageIO
import HybridZoom

/// A folder of simulated captures with ground truth, as `hzsr simulate --set` writes it and as
/// `hzsr eval` and the Python training code read it:
///
/// ```
/// SET/set.json                   what made the set: photos, split, parameters
/// SET/0000/wide.jpg, tele.jpg    the camera files, with EXIF
/// SET/0000/capture.json          RigParameters, photo, frame size
/// SET/0000/target_y.npy          float32 H×W   clean luma of T's calibrated field of view
/// SET/0000/flow_forward.npy      float32 H×W×2 I_src → T (u, v) in pixels
/// SET/0000/flow_backward.npy     float32 H×W×2 T → I_src
/// SET/0000/occlusion.npy         uint8 H×W     1: hidden in T by an occluder
/// SET/0000/defocus.npy           uint8 H×W     1: out of focus in T
/// SET/0000/tele_coverage.npy     uint8 H×W     1: inside T's frame
/// ```
/// H×W is the frame size; every ground-truth array lives on the `I_src` grid (W cropped to T's
/// calibrated field of view at T's resolution), except `flow_backward`, which lives on T's.
public enum CaptureSet {
    public struct Manifest: Codable, Sendable {
        public var version = 1
        public var split: String
        public var zoomRatio: Double
        public var captures: [String]
        public var photos: [String]
        public var command: String

        public init(split: String, zoomRatio: Double, captures: [String], photos: [String], command: String) {
            (self.split, self.zoomRatio, self.captures, self.photos, self.command) = (split, zoomRatio, captures, photos, command)
        }
    }

    public struct CaptureInfo: Codable, Sendable {
        public var photo: String
        public var parameters: RigParameters
    }

    /// Writes one capture into `folder` (created).
    public static func write(_ capture: SimulatedCapture, photo: String, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let parameters = capture.parameters
        try Data(try encodeJPEG(capture.wide, quality: parameters.wideJPEGQuality, exifPayload: capture.wideEXIF.app1Payload()))
            .write(to: URL(fileURLWithPath: "\(folder)/wide.jpg"))
        try Data(try encodeJPEG(capture.tele, quality: parameters.teleJPEGQuality, exifPayload: capture.teleEXIF.app1Payload()))
            .write(to: URL(fileURLWithPath: "\(folder)/tele.jpg"))
        try encoder.encode(CaptureInfo(photo: photo, parameters: capture.parameters))
            .write(to: URL(fileURLWithPath: "\(folder)/capture.json"))
        try NumpyFile.write(capture.target, to: "\(folder)/target_y.npy")
        try NumpyFile.write([capture.forwardFlow.u, capture.forwardFlow.v], to: "\(folder)/flow_forward.npy")
        try NumpyFile.write([capture.backwardFlow.u, capture.backwardFlow.v], to: "\(folder)/flow_backward.npy")
        try NumpyFile.writeMask(capture.occlusion, to: "\(folder)/occlusion.npy")
        try NumpyFile.writeMask(capture.defocus, to: "\(folder)/defocus.npy")
        try NumpyFile.writeMask(capture.teleCoverage, to: "\(folder)/tele_coverage.npy")
    }

    public static func writeManifest(_ manifest: Manifest, to set: String) throws {
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: "\(set)/set.json"))
    }

    public static func readManifest(_ set: String) throws -> Manifest {
        try decoder.decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: "\(set)/set.json")))
    }

    public static func readInfo(_ folder: String) throws -> CaptureInfo {
        try decoder.decode(CaptureInfo.self, from: Data(contentsOf: URL(fileURLWithPath: "\(folder)/capture.json")))
    }

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // A method that reproduces the target exactly scores +∞ dB; JSON has no such number.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }()
}
