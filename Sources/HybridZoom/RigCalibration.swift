import Foundation

/// Where the telephoto camera looks inside the wide camera's frame: the rig's fixed geometry.
public struct RigCalibration: Sendable, Equatable {
    /// T focal length / W focal length (`r` in the paper), > 1.
    public var zoomRatio: Double
    /// T's optical centre minus W's image centre, as fractions of W's width and height.
    public var centerOffset: (x: Double, y: Double)
    /// How far T's frame is turned against W's, in degrees: the rotation the coarse alignment
    /// measures between `I_src` and T when `I_src` is not turned (x right, y down, so positive
    /// is clockwise on screen).
    public var rotation: Double

    public init(zoomRatio: Double, centerOffset: (x: Double, y: Double) = (0, 0), rotation: Double = 0) {
        self.zoomRatio = zoomRatio
        self.centerOffset = centerOffset
        self.rotation = rotation
    }

    public static func == (a: RigCalibration, b: RigCalibration) -> Bool {
        a.zoomRatio == b.zoomRatio && a.centerOffset == b.centerOffset && a.rotation == b.rotation
    }
}

/// Rig calibration from captures: each pair's coarse alignment (step 3), made with the current
/// calibration, says where T's view really lies in W; the median over many pairs is the rig's
/// geometry, since each pair's own parallax and the odd mismatched pair do not move a median.
extension RigCalibration {
    /// What one pair says of the rig: the calibration under which `I_src` would match T with no
    /// coarse motion left. Throws the alignment's problem when the pair cannot say (no overlap,
    /// too few matches).
    public func measured(wide: BytePlane, tele: BytePlane, aligner: CoarseAligner = CoarseAligner()) throws -> RigCalibration {
        let view = DigitalZoom.teleView(wide: wide.size, calibration: self, teleSize: tele.size)
        let coarse = aligner.align(source: DigitalZoom.render(wide, view: view, to: tele.size), reference: tele)
        if let problem = coarse.problem { throw CalibrationError(problem: problem) }
        guard coarse.model != .translation else {
            throw CalibrationError(problem: "the matches that fit lie too close together to measure a turn or a scale")
        }
        // T's pixel p shows I_src's point A⁻¹(p), which shows W's point M(A⁻¹(p)) (M: I_src → W):
        // the rig's new mapping, whose scale, turn and centre are the new calibration.
        guard let back = coarse.similarity.inverse else { throw CalibrationError(problem: "the model cannot be inverted") }
        let teleToWide = back.followed(by: view.wideMapping(from: tele.size))
        let centre = teleToWide.apply(SIMD2(Double(tele.width), Double(tele.height)) / 2)
        let local = teleToWide.localScaleAndRotation(at: centre)
        // The crop at the tele zoom is W's width / r wide over T's width.
        let ratio = Double(wide.width) / (local.scale * Double(tele.width))
        return RigCalibration(
            zoomRatio: ratio,
            centerOffset: (centre.x / Double(wide.width) - 0.5, centre.y / Double(wide.height) - 0.5),
            rotation: -local.rotation * 180 / .pi)
    }

    /// The calibration that many pairs' measurements agree on: the median of each parameter.
    public static func median(of measurements: [RigCalibration]) -> RigCalibration? {
        guard !measurements.isEmpty else { return nil }
        return RigCalibration(
            zoomRatio: HybridZoom.median(measurements.map(\.zoomRatio)),
            centerOffset: (HybridZoom.median(measurements.map(\.centerOffset.x)), HybridZoom.median(measurements.map(\.centerOffset.y))),
            rotation: HybridZoom.median(measurements.map(\.rotation)))
    }
}

/// Why a pair says nothing of the rig's geometry.
public struct CalibrationError: Error, Sendable, CustomStringConvertible {
    public var problem: String
    public var description: String { problem }
}
