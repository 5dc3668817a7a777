import Foundation
import HybridZoom

/// How a simulated capture was exposed: the EXIF values both cameras record and how much darker
/// than the photograph the scene is rendered.
public struct Exposure: Codable, Sendable, Equatable {
    public var exposureTime: Double
    public var wideISO: Int
    public var teleISO: Int
    public var wideFNumber: Double
    public var teleFNumber: Double
    /// Scene brightness relative to the photograph (1 = as photographed); below 1 where even the
    /// longest handheld exposure at the highest ISO cannot reach a normal exposure.
    public var brightness: Double

    // Spelt out so that snake_case JSON ("wide_iso") reads back into the acronym.
    enum CodingKeys: String, CodingKey {
        case exposureTime, wideISO = "wideIso", teleISO = "teleIso", wideFNumber, teleFNumber, brightness
    }

    /// EV100 of the wide camera's settings.
    public var wideEV100: Double {
        ExposureSettings(exposureTime: exposureTime, fNumber: wideFNumber, iso: Double(wideISO)).ev100 ?? .nan
    }

    /// The settings an auto-exposing rig picks for a scene of `sceneEV100` (14: bright day,
    /// 0: a dim street at night): base ISO and a shorter exposure while light allows, exposures
    /// no longer than `longestExposure` (hand-held), then ISO up to 6400, then a darker image.
    /// T has the smaller aperture, so it needs more gain for the same exposure time.
    public static func automatic(
        sceneEV100: Double, wideFNumber: Double = 1.8, teleFNumber: Double = 2.8,
        longestExposure: Double = 1.0 / 15
    ) -> Exposure {
        let base = wideFNumber * wideFNumber / pow(2, sceneEV100)  // seconds at ISO 100
        let exposureTime = min(base, longestExposure)
        let gain = min(base / exposureTime, 64)
        let teleGain = min(gain * pow(teleFNumber / wideFNumber, 2), 64)
        return Exposure(
            exposureTime: exposureTime, wideISO: Int((100 * gain).rounded()), teleISO: Int((100 * teleGain).rounded()),
            wideFNumber: wideFNumber, teleFNumber: teleFNumber,
            brightness: min(1, exposureTime * gain / base))
    }

    /// A ladder of `count` scenes from bright day (EV100 14) down to night (EV100 −1), for gating.
    public static func ladder(_ step: Int, of count: Int) -> Exposure {
        let fraction = count > 1 ? Double(step) / Double(count - 1) : 0
        return automatic(sceneEV100: 14 - 15 * fraction)
    }
}
