import Foundation
import HybridZoom

/// One method's scores on one capture, or the medians over a set.
public struct MethodScores: Codable, Sendable, Equatable {
    /// PSNR (dB) and SSIM of the output luma inside T's field of view.
    public var psnrTele: Double
    public var ssimTele: Double
    /// PSNR (dB) and SSIM of the whole output luma.
    public var psnrWhole: Double
    public var ssimWhole: Double
    /// The fraction (0…1) of 64×64 tiles inside T's field of view where the method is more than
    /// 0.3 dB below W digital zoom.
    public var tilesWorseThanWideZoom: Double

    public init(
        psnrTele: Double, ssimTele: Double, psnrWhole: Double, ssimWhole: Double,
        tilesWorseThanWideZoom: Double
    ) {
        self.psnrTele = psnrTele
        self.ssimTele = ssimTele
        self.psnrWhole = psnrWhole
        self.ssimWhole = ssimWhole
        self.tilesWorseThanWideZoom = tilesWorseThanWideZoom
    }
}

/// Every method's scores on one capture of a set.
public struct CaptureResult: Codable, Sendable {
    public var capture: String
    /// The source photo the capture was simulated from.
    public var photo: String
    /// By method name, e.g. "wide-zoom".
    public var scores: [String: MethodScores]
    /// Simulated without occluders and with no pixel of T defocused: where blending should cost nothing.
    public var clean: Bool
    /// 64×64 tiles inside T's field of view, the ones compared with W digital zoom.
    public var tiles: Int
    /// For methods that blend: the blend weight against the true trouble spots.
    public var blend: [String: BlendScores]
    /// For methods that run the pipeline: its decision and reason (`fused`, `skipped: …`).
    public var decisions: [String: String]?

    public init(
        capture: String, photo: String, scores: [String: MethodScores], clean: Bool = true, tiles: Int = 0,
        blend: [String: BlendScores] = [:], decisions: [String: String]? = nil
    ) {
        (self.capture, self.photo, self.scores) = (capture, photo, scores)
        (self.clean, self.tiles, self.blend, self.decisions) = (clean, tiles, blend, decisions)
    }

    /// `method`'s PSNR gain over W digital zoom inside T's field of view, dB.
    func gain(_ method: String) -> Double? {
        guard let score = scores[method], let baseline = scores[Evaluation.baseline] else { return nil }
        return score.psnrTele - baseline.psnrTele
    }
}

/// The scores of several methods over a capture set, with per-method medians, as JSON (Codable), a
/// Markdown table and an SVG chart.
public struct EvaluationReport: Codable, Sendable {
    public var set: String
    /// In presentation order; the table and chart follow it.
    public var methods: [String]
    public var captures: [CaptureResult]
    /// Each score's median over the captures, field by field, by method name.
    public var median: [String: MethodScores]

    /// A report whose medians are computed from `captures`.
    public init(set: String, methods: [String], captures: [CaptureResult]) {
        self.set = set
        self.methods = methods
        self.captures = captures
        median = Self.medians(of: captures, methods: methods)
    }

    /// Per method, the median of each field over the captures that scored it (methods no capture
    /// scored are left out). Medians rather than means, so one pathological capture cannot swing them.
    public static func medians(of captures: [CaptureResult], methods: [String]) -> [String: MethodScores] {
        var medians: [String: MethodScores] = [:]
        for method in methods {
            let scores = captures.compactMap { $0.scores[method] }
            guard !scores.isEmpty else { continue }
            func medianOf(_ field: KeyPath<MethodScores, Double>) -> Double {
                HybridZoom.median(scores.map { $0[keyPath: field] })
            }
            medians[method] = MethodScores(
                psnrTele: medianOf(\.psnrTele), ssimTele: medianOf(\.ssimTele),
                psnrWhole: medianOf(\.psnrWhole), ssimWhole: medianOf(\.ssimWhole),
                tilesWorseThanWideZoom: medianOf(\.tilesWorseThanWideZoom))
        }
        return medians
    }

    /// The medians as a Markdown table, one row per method, with a caption line below.
    public func markdownTable() -> String {
        var lines = [
            "| Method | PSNR tele (dB) | SSIM tele | PSNR whole (dB) | SSIM whole | Tiles worse |",
            "|:--|--:|--:|--:|--:|--:|",
        ]
        for method in methods {
            guard let scores = median[method] else { continue }
            let cells = [
                method.replacingOccurrences(of: "|", with: "\\|"),
                String(format: "%.2f", scores.psnrTele), String(format: "%.4f", scores.ssimTele),
                String(format: "%.2f", scores.psnrWhole), String(format: "%.4f", scores.ssimWhole),
                String(format: "%.1f%%", scores.tilesWorseThanWideZoom * 100),
            ]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines += [
            "",
            "Medians over \(captures.count) captures of set \"\(set)\". Tele: inside T's field of view. "
                + "Tiles worse: share of 64×64 tiles there more than 0.3 dB below W digital zoom.",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Over all captures: the share of tiles inside T's view no more than 0.3 dB below W digital
    /// zoom (each tile counts once, whichever capture it is in).
    public func tilesNotWorse(_ method: String) -> Double {
        let scored = captures.filter { $0.scores[method] != nil }
        let tiles = scored.map(\.tiles).reduce(0, +)
        let worse = scored.map { Double($0.tiles) * $0.scores[method]!.tilesWorseThanWideZoom }.reduce(0, +)
        return tiles > 0 ? 1 - worse / Double(tiles) : .nan
    }

    /// The median over the captures of each one's PSNR gain over W digital zoom.
    public func medianGain(_ method: String) -> Double {
        let gains = captures.compactMap { $0.gain(method) }
        return gains.isEmpty ? .nan : HybridZoom.median(gains)
    }

    /// The least share of tiles not worse than W digital zoom in any one capture.
    public func worstCaptureTilesNotWorse(_ method: String) -> Double {
        captures.compactMap { $0.scores[method].map { 1 - $0.tilesWorseThanWideZoom } }.min() ?? .nan
    }

    /// The median PSNR gain over W digital zoom on the clean captures (no occluders, no defocus).
    public func medianCleanGain(_ method: String) -> Double {
        let gains = captures.filter(\.clean).compactMap { $0.gain(method) }
        return gains.isEmpty ? .nan : HybridZoom.median(gains)
    }

    /// How many captures the pipeline fused with `method`, of those it ran on, or nil where it did not run.
    public func fusedCount(_ method: String) -> (fused: Int, of: Int)? {
        let decisions = captures.compactMap { $0.decisions?[method] }
        return decisions.isEmpty ? nil : (decisions.filter { $0.hasPrefix("fused") }.count, decisions.count)
    }

    /// The captures `method` did not fuse, each with the pipeline's reason.
    public func skipped(_ method: String) -> [(capture: String, reason: String)] {
        captures.compactMap { capture in
            capture.decisions?[method].flatMap { $0.hasPrefix("fused") ? nil : (capture.capture, $0) }
        }
    }

    /// The blend scores of `method` pooled over the captures.
    public func pooledBlend(_ method: String) -> BlendScores? {
        BlendScores.pooled(captures.compactMap { $0.blend[method] })
    }

    /// Blending's own table: whether fused output is never worse than W, what blending costs on
    /// clean captures, and whether the weight avoids the true trouble spots.
    public func blendingTable() -> String {
        var lines = [
            "| Method | Fused | Gain (dB) | Tiles not worse | In the worst capture | Gain on clean captures (dB) | Occluded ≤ 0.1 "
                + "| Defocused ≤ 0.1 | Misaligned ≤ 0.1 | Clean textured ≥ 0.8 | Defocus map: defocused flagged | in focus flagged |",
            "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        func percent(_ value: Double?) -> String { value.map { $0.isNaN ? "–" : String(format: "%.1f%%", $0 * 100) } ?? "–" }
        for method in methods where method != Evaluation.baseline {
            let blend = pooledBlend(method)
            let fused = fusedCount(method).map { "\($0.fused)/\($0.of)" } ?? "–"
            let cells = [
                method, fused, String(format: "%+.2f", medianGain(method)), percent(tilesNotWorse(method)),
                percent(worstCaptureTilesNotWorse(method)), String(format: "%+.2f", medianCleanGain(method)),
                percent(blend?.occluded.share), percent(blend?.defocused.share),
                percent(blend?.misaligned.share), percent(blend?.cleanTextured.share),
                percent(blend?.defocusFlagsDefocused?.share), percent(blend?.defocusFlagsInFocus?.share),
            ]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines += [
            "",
            "Fused: captures the pipeline fused (the rest publish W digital zoom). "
                + "Gain: the median over the captures of each one's PSNR gain over W digital zoom inside T's view. "
                + "Tiles not worse: 64×64 tiles inside T's view, over all captures (and in the capture with the fewest), "
                + "at most 0.3 dB below W digital zoom. "
                + "Gain on clean captures: median over the \(captures.filter(\.clean).count) captures without occluders or defocus. "
                + "Region shares: blend weight on the maps' grid, pixels pooled over the captures; misaligned: our flow more "
                + "than 1 px (full resolution) from the truth; textured: the target's 5×5 deviation ≥ 0.02. "
                + "Defocus map: its share ≥ 0.5 on textured pixels T sees, truly defocused or in focus.",
        ]
        let unfused = methods.filter { $0 != Evaluation.baseline }.flatMap { method in
            skipped(method).map { "- \(method), capture \($0.capture): \($0.reason)" }
        }
        if !unfused.isEmpty { lines += ["", "Not fused:"] + unfused }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A 1000×500 chart of each capture's PSNR inside T's field of view, per method, with each
    /// method's median as a dashed line.
    public func chartSVG() -> String {
        PSNRChart(report: self).render().markup
    }
}

// MARK: - Chart

/// The PSNR chart: captures along x, one dot per method per capture (side by side, joined by a grey
/// line so the gap between methods reads at a glance), medians as dashed lines labelled at the right.
private struct PSNRChart {
    let report: EvaluationReport
    let size = (width: 1000.0, height: 500.0)
    let plot = (left: 78.0, right: 870.0, top: 96.0, bottom: 440.0)
    /// Okabe–Ito colours: distinct for the common forms of colour blindness.
    let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

    func render() -> SVGDocument {
        var svg = SVGDocument(width: size.width, height: size.height)
        let scale = ValueScale(values: allValues(), pixels: (plot.bottom, plot.top))
        drawTitleAndLegend(&svg)
        drawValueAxis(&svg, scale)
        drawCaptureAxis(&svg)
        drawCaptures(&svg, scale)
        drawMedians(&svg, scale)
        return svg
    }

    private func colour(_ methodIndex: Int) -> String { palette[methodIndex % palette.count] }

    private func telePSNR(_ capture: CaptureResult, _ method: String) -> Double? {
        capture.scores[method].map(\.psnrTele).flatMap { $0.isFinite ? $0 : nil }
    }

    private func medianTelePSNR(_ method: String) -> Double? {
        report.median[method].map(\.psnrTele).flatMap { $0.isFinite ? $0 : nil }
    }

    private func allValues() -> [Double] {
        report.captures.flatMap { capture in report.methods.compactMap { telePSNR(capture, $0) } }
            + report.methods.compactMap(medianTelePSNR)
    }

    private var captureSpacing: Double { (plot.right - plot.left) / Double(max(report.captures.count, 1)) }

    private func captureCentre(_ index: Int) -> Double { plot.left + (Double(index) + 0.5) * captureSpacing }

    private func drawTitleAndLegend(_ svg: inout SVGDocument) {
        svg.text(
            "PSNR inside T's field of view — set \(report.set), \(report.captures.count) captures",
            x: plot.left, y: 36, size: 20, weight: .bold)
        var x = plot.left
        for (index, method) in report.methods.enumerated() {
            svg.circle(cx: x + 6, cy: 63, r: 6, fill: colour(index))
            svg.text(method, x: x + 18, y: 68, size: 14)
            // DejaVu Sans averages about 0.6 em per character.
            x += 18 + Double(method.count) * 14 * 0.6 + 28
        }
        svg.line(x1: x, y1: 63, x2: x + 28, y2: 63, stroke: "#555555", width: 2, dash: "6 4")
        svg.text("median", x: x + 36, y: 68, size: 14)
    }

    private func drawValueAxis(_ svg: inout SVGDocument, _ scale: ValueScale) {
        for tick in scale.ticks {
            let y = scale.pixel(tick)
            svg.line(x1: plot.left, y1: y, x2: plot.right, y2: y, stroke: "#e3e3e3")
            svg.text("\(scale.label(tick)) dB", x: plot.left - 10, y: y + 5, size: 13, anchor: .end, fill: "#333333")
        }
        svg.line(x1: plot.left, y1: plot.top, x2: plot.left, y2: plot.bottom, stroke: "#333333")
    }

    private func drawCaptureAxis(_ svg: inout SVGDocument) {
        svg.line(x1: plot.left, y1: plot.bottom, x2: plot.right, y2: plot.bottom, stroke: "#333333")
        // About one label per 30 pixels at most, always including the first capture.
        let every = max(1, Int((30 / captureSpacing).rounded(.up)))
        for index in stride(from: 0, to: report.captures.count, by: every) {
            let x = captureCentre(index)
            svg.line(x1: x, y1: plot.bottom, x2: x, y2: plot.bottom + 5, stroke: "#333333")
            svg.text("\(index + 1)", x: x, y: plot.bottom + 21, size: 13, anchor: .middle, fill: "#333333")
        }
        svg.text("capture", x: (plot.left + plot.right) / 2, y: plot.bottom + 48, size: 14, anchor: .middle)
    }

    private func drawCaptures(_ svg: inout SVGDocument, _ scale: ValueScale) {
        // Each capture's dots spread over at most 60% of its slot, in method order.
        let methodCount = Double(report.methods.count)
        let offset = min(captureSpacing * 0.6 / max(methodCount, 1), 10)
        let radius = min(5, max(2.5, offset * 0.55))
        for (index, capture) in report.captures.enumerated() {
            let points = report.methods.enumerated().compactMap { methodIndex, method in
                telePSNR(capture, method).map { psnr in
                    (
                        methodIndex: methodIndex, y: scale.pixel(psnr),
                        x: captureCentre(index) + (Double(methodIndex) - (methodCount - 1) / 2) * offset
                    )
                }
            }
            if points.count > 1 {
                svg.polyline(points.map { (x: $0.x, y: $0.y) }, stroke: "#b8b8b8", width: 2)
            }
            for point in points {
                svg.circle(
                    cx: point.x, cy: point.y, r: radius, fill: colour(point.methodIndex),
                    stroke: "white", strokeWidth: 1)
            }
        }
    }

    private func drawMedians(_ svg: inout SVGDocument, _ scale: ValueScale) {
        let medians = report.methods.enumerated().compactMap { index, method in
            medianTelePSNR(method).map { (index: index, value: $0, y: scale.pixel($0)) }
        }
        for median in medians {
            svg.line(
                x1: plot.left, y1: median.y, x2: plot.right, y2: median.y,
                stroke: colour(median.index), width: 2, dash: "6 4")
        }
        // Labels sit at the right end of their line, pushed apart where medians are close.
        var labelY = -Double.infinity
        for median in medians.sorted(by: { $0.y < $1.y }) {
            labelY = max(median.y + 5, labelY + 16)
            svg.text(
                String(format: "%.2f dB", median.value), x: plot.right + 8, y: labelY, size: 13,
                weight: .bold, fill: colour(median.index))
        }
    }
}

/// A linear map from values to pixels over a range rounded out to "nice" ticks (1, 2 or 5 × 10ⁿ).
private struct ValueScale {
    let ticks: [Double]
    private let low: Double, high: Double
    private let lowPixel: Double, highPixel: Double
    private let decimals: Int

    /// `pixels` runs from the pixel of the lowest value to that of the highest (reversed for y).
    init(values: [Double], pixels: (Double, Double)) {
        var low = values.min() ?? 0, high = values.max() ?? 1
        if high - low < 0.5 { (low, high) = ((low + high) / 2 - 0.25, (low + high) / 2 + 0.25) }
        // A little room so that no dot sits on the axis.
        (low, high) = (low - (high - low) / 20, high + (high - low) / 20)
        let step = Self.niceStep(for: (high - low) / 6)
        self.low = (low / step).rounded(.down) * step
        self.high = (high / step).rounded(.up) * step
        ticks = stride(from: self.low, through: self.high + step / 2, by: step).map { $0 }
        (lowPixel, highPixel) = pixels
        decimals = max(0, -Int(log10(step).rounded(.down)))
    }

    func pixel(_ value: Double) -> Double {
        lowPixel + (value - low) / (high - low) * (highPixel - lowPixel)
    }

    func label(_ value: Double) -> String { String(format: "%.\(decimals)f", value) }

    private static func niceStep(for rough: Double) -> Double {
        let magnitude = pow(10, log10(rough).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
    }
}
