import Foundation
import HybridZoom

/// How well alignment did on one capture, against the simulator's ground truth, at the flow's
/// resolution (where the dense flow is computed; the translation error is also given in pixels
/// of a 12 MP frame, 4032 wide, the unit the requirements use).
public struct AlignmentScores: Codable, Sendable {
    public var capture: String
    /// |estimated − true| coarse translation, the true one being the median of the true flow
    /// over the pixels T sees; in pixels of a 4032-wide frame.
    public var translationErrorAt12MP: Double
    public var coarseReliable: Bool
    /// Mean endpoint error of the forward flow over visible pixels (in T, not occluded), px.
    public var endpointError: Double
    /// Occlusion map (≥ 0.5) against the true occluders.
    public var occlusionPrecision: Double
    public var occlusionRecall: Double
    public var occlusionF1: Double
    /// Area under the ROC curve of the uncertainty as a detector of flow errors above 1 px.
    public var uncertaintyAUC: Double
    public var pixelsWithErrorAbove1px: Double
}

/// Ground truth of one capture brought to the flow's resolution.
public struct FlowGroundTruth: Sendable {
    /// `I_src` → T.
    public var flow: FlowField
    /// 1 where the scene point is in T's frame and not occluded.
    public var visible: Plane
    /// 1 where an occluder hides the scene point in T (within T's frame).
    public var occluded: Plane

    public init(folder: String, size: Size) throws {
        let channels = try NumpyFile.readChannels(at: "\(folder)/flow_forward.npy")
        let full = FlowField(u: channels[0], v: channels[1])
        flow = full.resized(to: size)
        let rect = full.size.bounds
        let coverage = resample(try NumpyFile.readMask(at: "\(folder)/tele_coverage.npy"), from: rect, to: size)
        let occlusion = resample(try NumpyFile.readMask(at: "\(folder)/occlusion.npy"), from: rect, to: size)
        visible = Plane(
            width: size.width, height: size.height,
            pixels: zip(coverage.pixels, occlusion.pixels).map { $0 > 0.99 && $1 < 0.01 ? 1 : 0 })
        occluded = Plane(
            width: size.width, height: size.height,
            pixels: zip(coverage.pixels, occlusion.pixels).map { $0 > 0.99 && $1 >= 0.5 ? 1 : 0 })
    }

    /// The translation a perfect coarse alignment finds: the median true flow where T sees.
    public var medianFlow: SIMD2<Double> {
        let us = flow.u.pixels.indices.filter { visible.pixels[$0] > 0 }.map { Double(flow.u.pixels[$0]) }
        let vs = flow.v.pixels.indices.filter { visible.pixels[$0] > 0 }.map { Double(flow.v.pixels[$0]) }
        return SIMD2(median(us), median(vs))
    }
}

extension AlignmentScores {
    public init(capture: String, alignment: Alignment, truth: FlowGroundTruth, fullWidth: Int) {
        let flow = alignment.forward.flow
        let factor = Double(flow.size.width) / Double(fullWidth)
        let offBy = alignment.coarse.translation * factor - truth.medianFlow
        let translationError = (offBy * offBy).sum().squareRoot()
        let errors = flow.u.pixels.indices.map { i -> Float in
            let du = flow.u.pixels[i] - truth.flow.u.pixels[i], dv = flow.v.pixels[i] - truth.flow.v.pixels[i]
            return (du * du + dv * dv).squareRoot()
        }
        let visible = truth.visible.pixels.indices.filter { truth.visible.pixels[$0] > 0 }
        let inFrame = truth.visible.pixels.indices.filter { truth.visible.pixels[$0] > 0 || truth.occluded.pixels[$0] > 0 }
        let (precision, recall) = detection(
            predicted: inFrame.map { alignment.occlusion.pixels[$0] >= 0.5 },
            actual: inFrame.map { truth.occluded.pixels[$0] > 0 })
        self.init(
            capture: capture, translationErrorAt12MP: translationError / factor * 4032 / Double(fullWidth),
            coarseReliable: alignment.coarse.isReliable,
            endpointError: visible.map { Double(errors[$0]) }.reduce(0, +) / Double(max(visible.count, 1)),
            occlusionPrecision: precision, occlusionRecall: recall,
            occlusionF1: precision + recall > 0 ? 2 * precision * recall / (precision + recall) : .nan,
            uncertaintyAUC: areaUnderROC(
                scores: visible.map { alignment.forward.uncertainty.pixels[$0] },
                positives: visible.map { errors[$0] > 1 }),
            pixelsWithErrorAbove1px: Double(visible.filter { errors[$0] > 1 }.count) / Double(max(visible.count, 1)))
    }
}

/// Precision and recall of a binary detector (NaN where undefined).
func detection(predicted: [Bool], actual: [Bool]) -> (precision: Double, recall: Double) {
    let hits = Double(zip(predicted, actual).filter { $0 && $1 }.count)
    let flagged = Double(predicted.filter { $0 }.count), real = Double(actual.filter { $0 }.count)
    return (flagged > 0 ? hits / flagged : .nan, real > 0 ? hits / real : .nan)
}

/// ROC AUC by ranks (Mann–Whitney U), ties sharing their mean rank; NaN without both classes.
public func areaUnderROC(scores: [Float], positives: [Bool]) -> Double {
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var ranks = [Double](repeating: 0, count: scores.count)
    var start = 0
    while start < order.count {
        var end = start
        while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
        let shared = Double(start + end) / 2 + 1
        for k in start...end { ranks[order[k]] = shared }
        start = end + 1
    }
    let positiveCount = Double(positives.filter { $0 }.count), negativeCount = Double(positives.count) - positiveCount
    guard positiveCount > 0, negativeCount > 0 else { return .nan }
    let positiveRanks = zip(ranks, positives).filter { $0.1 }.map(\.0).reduce(0, +)
    return (positiveRanks - positiveCount * (positiveCount + 1) / 2) / (positiveCount * negativeCount)
}
