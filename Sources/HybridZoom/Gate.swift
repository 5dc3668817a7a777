import Foundation

/// The gate: whether to fuse a capture at all, or publish W's digital zoom instead, and why.
///
/// Fusion is skipped when the scene is too dark (T, with its smaller aperture and pixels, is
/// then mostly noise), when T is noisier than W even after shrinking it to W's scale (it would
/// add noise, not detail), and when alignment failed. Every decision carries the measurements
/// and thresholds it was made on, for the journal and the sidecar.
public enum Gate {
    /// The decision for a capture with frames measured as `wide` and `tele`. Without `alignment`
    /// (before aligning, to skip early) the alignment check is left out; call again with it.
    public static func decide(
        wide: FrameMeasurement, tele: FrameMeasurement, zoomRatio: Double,
        alignment: AlignmentCheck? = nil, settings: GateSettings = GateSettings()
    ) -> GateDecision {
        let measurements = GateMeasurements(wide: wide, tele: tele, zoomRatio: zoomRatio, alignment: alignment)
        func decision(_ outcome: GateDecision.Outcome, _ details: [String]) -> GateDecision {
            GateDecision(outcome: outcome, details: details, measurements: measurements, thresholds: settings)
        }
        // Without EXIF exposure, light is judged by mean luma alone, and the reason says so.
        let exifNote =
            measurements.ev100Wide == nil
            ? ["W has no EXIF exposure time, f-number and ISO: light judged by mean luma only"] : []

        if let ev100 = measurements.ev100Wide, ev100 < settings.minimumEV100 {
            return decision(.lowLight, [String(format: "EV100 of W %.2f below %.2f", ev100, settings.minimumEV100)])
        }
        if wide.meanLuma < settings.minimumMeanLuma {
            return decision(.lowLight, [String(format: "mean luma of W %.3f below %.3f", wide.meanLuma, settings.minimumMeanLuma)] + exifNote)
        }
        let teleNoise = measurements.noiseTeleAtWideScale
        if teleNoise > settings.noiseFloor && teleNoise > settings.maximumTeleNoiseRatio * wide.noise {
            return decision(
                .teleNoisier,
                [
                    String(
                        format: "T's noise at W's scale %.4f against W's %.4f, limit %.2f×",
                        teleNoise, wide.noise, settings.maximumTeleNoiseRatio)
                ] + exifNote)
        }
        if let alignment {
            if let problem = alignment.problem { return decision(.alignmentFailed, ["coarse alignment unreliable: \(problem)"] + exifNote) }
            if alignment.overlap < settings.minimumOverlap {
                return decision(.alignmentFailed, [String(format: "overlap %.2f below %.2f", alignment.overlap, settings.minimumOverlap)] + exifNote)
            }
        }
        return decision(.fused, exifNote)
    }
}

/// The gate's thresholds.
public struct GateSettings: Codable, Sendable, Equatable {
    /// W's EV100 below which the scene counts as low light. 3 is about 20 lux, a street at
    /// night or a dim room: W (f/1.8, 1/15 s) is at ISO 600 there and T (f/2.8) at ISO 1500,
    /// where T's noise buries the detail it would add.
    public var minimumEV100: Double
    /// W's mean luma below which the scene counts as low light whatever the EXIF says: about 20
    /// of 255, an underexposed frame.
    public var minimumMeanLuma: Double
    /// T's noise, shrunk to W's scale, may be at most this many times W's. Above, T adds more
    /// noise than detail. 1.5: the simulated rig reaches 1.2 (T's ISO is 2.4 × W's), so only a
    /// T markedly worse than expected trips it.
    public var maximumTeleNoiseRatio: Double
    /// Noise σ (luma units) below which T is never called noisier: under one code value (1/255)
    /// at W's scale T's noise cannot be seen, however much cleaner a denoising W makes its own
    /// frame (two cameras' processing differs; a quarter of a code value skipped daylight pairs).
    public var noiseFloor: Double
    /// The share of I_src that T must cover. The coarse search reaches ±6 % of the width, so a
    /// sound alignment overlaps by 88 % or more; under half, the flow has gone astray.
    public var minimumOverlap: Double

    public init(
        minimumEV100: Double = 3, minimumMeanLuma: Double = 0.08, maximumTeleNoiseRatio: Double = 1.5,
        noiseFloor: Double = 0.004, minimumOverlap: Double = 0.5
    ) {
        self.minimumEV100 = minimumEV100
        self.minimumMeanLuma = minimumMeanLuma
        self.maximumTeleNoiseRatio = maximumTeleNoiseRatio
        self.noiseFloor = noiseFloor
        self.minimumOverlap = minimumOverlap
    }
}

/// What a frame's EXIF says of its exposure; any value may be missing.
public struct ExposureSettings: Codable, Sendable, Equatable {
    /// Seconds.
    public var exposureTime: Double?
    public var fNumber: Double?
    public var iso: Double?

    public init(exposureTime: Double? = nil, fNumber: Double? = nil, iso: Double? = nil) {
        self.exposureTime = exposureTime
        self.fNumber = fNumber
        self.iso = iso
    }

    /// EV100 = log2(N²/t) − log2(ISO/100): the scene's brightness as these settings judged it;
    /// nil unless all three values are known and positive.
    public var ev100: Double? {
        guard let t = exposureTime, let n = fNumber, let iso, t > 0, n > 0, iso > 0 else { return nil }
        return log2(n * n / t) - log2(iso / 100)
    }
}

/// One frame as the gate sees it.
public struct FrameMeasurement: Codable, Sendable, Equatable {
    public var exposure: ExposureSettings
    /// Mean luma, [0, 1].
    public var meanLuma: Double
    /// σ of the noise on the frame's flat areas, luma units per pixel of this frame.
    public var noise: Double

    public init(exposure: ExposureSettings, meanLuma: Double, noise: Double) {
        self.exposure = exposure
        self.meanLuma = meanLuma
        self.noise = noise
    }

    /// Measures a frame's luma (as decoded, at its own resolution: resampling would change the noise).
    public init(luma: Plane, exposure: ExposureSettings) {
        self.init(exposure: exposure, measuring: luma)
    }

    /// The same from the frame's luma as decoded, in 8 bits.
    public init(luma: BytePlane, exposure: ExposureSettings) {
        self.init(exposure: exposure, measuring: luma)
    }

    private init<P: ReadablePlane>(exposure: ExposureSettings, measuring luma: P) {
        let measured = NoiseEstimate.measure(luma)
        self.init(exposure: exposure, meanLuma: Double(measured.meanLuma), noise: Double(measured.noise))
    }
}

/// Whether T could be aligned to I_src.
public struct AlignmentCheck: Codable, Sendable, Equatable {
    /// Why the coarse alignment cannot be trusted (`CoarseAlignment.problem`); nil when it can.
    public var problem: String?
    /// The share of I_src that T covers, [0, 1].
    public var overlap: Double

    public var isReliable: Bool { problem == nil }

    public init(problem: String?, overlap: Double) {
        self.problem = problem
        self.overlap = overlap
    }

    /// From the whole alignment: the share of I_src whose flow stays inside T.
    public init(_ alignment: Alignment) {
        let outside = alignment.outsideReference.pixels
        self.init(
            problem: alignment.coarse.problem,
            overlap: 1 - Double(outside.reduce(0, +)) / Double(max(outside.count, 1)))
    }
}

/// The numbers a gate decision was made on.
public struct GateMeasurements: Codable, Sendable, Equatable {
    public var ev100Wide: Double?
    public var ev100Tele: Double?
    public var meanLumaWide: Double
    public var meanLumaTele: Double
    /// σ per pixel of each frame's own resolution.
    public var noiseWide: Double
    public var noiseTele: Double
    /// T's noise as it would be shrunk to W's scale: r × r of T's pixels average into one of W's,
    /// which divides white noise's σ by r.
    public var noiseTeleAtWideScale: Double
    public var zoomRatio: Double
    public var alignmentReliable: Bool?
    public var overlap: Double?

    init(wide: FrameMeasurement, tele: FrameMeasurement, zoomRatio: Double, alignment: AlignmentCheck?) {
        precondition(zoomRatio > 0, "zoom ratio \(zoomRatio) is not positive")
        (ev100Wide, ev100Tele) = (wide.exposure.ev100, tele.exposure.ev100)
        (meanLumaWide, meanLumaTele) = (wide.meanLuma, tele.meanLuma)
        (noiseWide, noiseTele, noiseTeleAtWideScale) = (wide.noise, tele.noise, tele.noise / zoomRatio)
        self.zoomRatio = zoomRatio
        (alignmentReliable, overlap) = (alignment?.isReliable, alignment?.overlap)
    }
}

/// A gate decision: what to do, why, and on what evidence.
public struct GateDecision: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        case fused
        case lowLight = "low light"
        case teleNoisier = "tele noisier than wide"
        case alignmentFailed = "alignment failed"
    }

    public var outcome: Outcome
    /// `fused` or `skipped: <outcome>`, then the particulars in parentheses: for example
    /// "skipped: low light (EV100 of W 1.5 below 3.0)".
    public var reason: String
    public var measurements: GateMeasurements
    public var thresholds: GateSettings

    public var fuses: Bool { outcome == .fused }

    init(outcome: Outcome, details: [String], measurements: GateMeasurements, thresholds: GateSettings) {
        let label = outcome == .fused ? "fused" : "skipped: \(outcome.rawValue)"
        self.outcome = outcome
        reason = details.isEmpty ? label : "\(label) (\(details.joined(separator: "; ")))"
        self.measurements = measurements
        self.thresholds = thresholds
    }
}
