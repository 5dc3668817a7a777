import Foundation
import HybridZoom

/// Scores methods against a capture set's ground truth: PSNR and SSIM of the output luma against
/// the clean target, inside T's field of view and over the whole output, and per 64×64 tile
/// against the W digital zoom.
public struct Evaluation: Sendable {
    /// A way of turning a capture's W and T JPEGs (and the rig's zoom ratio) into output luma on
    /// the target's grid.
    public typealias Method = @Sendable (_ wide: [UInt8], _ tele: [UInt8], _ zoomRatio: Double) throws -> MethodOutput

    /// The method every other is compared with, tile by tile: the pipeline's fallback.
    public static let baseline = "wide-zoom"

    public let methods: [(name: String, run: Method)]

    /// `methods` must start with the baseline.
    public init(methods: [(name: String, run: Method)]) {
        precondition(methods.first?.name == Self.baseline, "the first method must be \(Self.baseline)")
        self.methods = methods
    }

    public func evaluate(set: String, progress: (String) -> Void = { _ in }) throws -> EvaluationReport {
        let manifest = try CaptureSet.readManifest(set)
        let results = try manifest.captures.map { capture in
            let result = try evaluate(capture: "\(set)/\(capture)", name: capture)
            progress(capture)
            return result
        }
        return EvaluationReport(set: (set as NSString).lastPathComponent, methods: methods.map(\.name), captures: results)
    }

    private func evaluate(capture folder: String, name: String) throws -> CaptureResult {
        let info = try CaptureSet.readInfo(folder)
        let wide = try bytes("\(folder)/wide.jpg"), tele = try bytes("\(folder)/tele.jpg")
        let target = try NumpyFile.readPlane(at: "\(folder)/target_y.npy")
        let coverage = try NumpyFile.readMask(at: "\(folder)/tele_coverage.npy")
        var scores: [String: MethodScores] = [:], blend: [String: BlendScores] = [:], decisions: [String: String] = [:]
        var baselineTiles: [TileScore] = [], truth: BlendTruth?
        for method in methods {
            let result = try method.run(wide, tele, info.parameters.zoomRatio)
            let output = result.luma
            decisions[method.name] = result.decision
            if let weight = result.blendWeight, let flow = result.flow {
                let onGrid =
                    try truth.flatMap { $0.grid == weight.size ? $0 : nil }
                    ?? BlendTruth(folder: folder, target: target, grid: weight.size)
                blend[method.name] = BlendScores(weight: weight, flow: flow, defocusMap: result.defocusMap, truth: onGrid)
                truth = onGrid
            }
            guard output.size == target.size else {
                throw EvaluationError("\(folder): \(method.name) made \(output.size), the target is \(target.size)")
            }
            let tiles = tilePSNRs(output, target, mask: coverage)
            if method.name == Self.baseline { baselineTiles = tiles }
            scores[method.name] = MethodScores(
                psnrTele: psnr(output, target, mask: coverage), ssimTele: ssim(output, target, mask: coverage),
                psnrWhole: psnr(output, target), ssimWhole: ssim(output, target),
                tilesWorseThanWideZoom: fractionWorse(tiles, than: baselineTiles, byMoreThan: 0.3))
        }
        let defocused = try NumpyFile.readMask(at: "\(folder)/defocus.npy").pixels.contains { $0 > 0 }
        return CaptureResult(
            capture: name, photo: info.photo, scores: scores,
            clean: info.parameters.occluders == 0 && !defocused, tiles: baselineTiles.count, blend: blend, decisions: decisions)
    }

    private func bytes(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw EvaluationError("cannot read \(path)") }
        return [UInt8](data)
    }
}

/// What a method made of a capture: its output luma, and for methods that blend, the blend
/// weight, the flow it was judged on and the defocus map (all on the maps' grid).
public struct MethodOutput: Sendable {
    public var luma: Plane
    public var blendWeight: Plane?
    public var flow: FlowField?
    public var defocusMap: Plane?
    /// The pipeline's decision (`fused`, `skipped: …`), for methods that run it.
    public var decision: String?

    public init(luma: Plane, blendWeight: Plane? = nil, flow: FlowField? = nil, defocusMap: Plane? = nil, decision: String? = nil) {
        (self.luma, self.blendWeight, self.flow, self.defocusMap, self.decision) = (luma, blendWeight, flow, defocusMap, decision)
    }

    /// The pipeline's primary output and what its blending decided.
    public init(_ processed: ProcessedCapture) {
        self.init(
            luma: processed.primary.image.y, blendWeight: processed.blend?.weight, flow: processed.alignment?.forward.flow,
            defocusMap: processed.blend?.maps[DefocusMap.name], decision: processed.reason)
    }
}

public struct EvaluationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
