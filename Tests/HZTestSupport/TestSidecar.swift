import Foundation

/// A sidecar as the daemon writes one, with the fields a test varies; the rest fixed.
public enum TestSidecar {
    public static func json(
        pair: String = "p", decision: String, coverage: Double = 0, ev100: Double = 10, latencyMs: Double = 500,
        publishedAt: String = "2026-11-29T08:53:20.000Z"
    ) -> String {
        """
        {"pair": "\(pair)", "decision": "\(decision)", "reason": "\(decision)", "image": "\(pair).jpg", "size": [64, 48],
         "zoom": 2, "wide_crop": [0, 0, 1, 1], "other_outputs": [], "maps": [], "inputs": [], "time_difference_ms": 0,
         "gate": {"alignment_reliable": true, "mean_luma_tele": 0.5, "mean_luma_wide": 0.5, "noise_tele": 0.01,
                  "noise_tele_at_wide_scale": 0.005, "noise_wide": 0.01, "overlap": 1, "zoom_ratio": 2,
                  "ev100_wide": \(ev100), "ev100_tele": \(ev100)},
         "coverage": \(coverage), "timings_ms": {"laps": [{"stage": "decode", "ms": 20}, {"stage": "encode", "ms": 10}]},
         "latency_ms": \(latencyMs), "published_at": "\(publishedAt)"}
        """
    }
}
