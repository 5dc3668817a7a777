import HybridZoom

/// The kinds of journal entry the daemon writes, each with its own `MESSAGE_ID`, so that
/// `journalctl MESSAGE_ID=…` finds every entry of one kind (ids made once with `systemd-id128 new`).
public enum JournalEvent: String, CaseIterable, Sendable {
    case started = "b3681135163a4daa9a58efec00834e5e"
    case pairFused = "dc4e41589e0b4d8082808417109df366"
    case fusionSkipped = "0cd3c01543cf4a069f9cf5ecc5ed85d7"
    case inputQuarantined = "b21b4f82295e48b4bbfa427751ae93a3"
    case orphan = "45b46f43ff034a4ebe25783c52f5c198"
    case inputLeft = "4990dd8a56694e958ac55e0e32be9fe1"
    case inputRenamed = "bd727811eb0b423787da986a8de96b96"
    case rescan = "2befa31a3b324460b2aef2f52ae45443"
    case error = "5f667256390d4f799fdaf745db0bd8c8"
    case reloaded = "8bd93ce90d7249908c39513daeebbe3e"
    case stopping = "a1f427a16bf5422dae9410b0f26888c8"
}

/// Every field the daemon adds to its journal entries: the one table of them, which README's
/// Journal section lists in full (a test checks that both agree).
public enum JournalField: String, CaseIterable, Sendable {
    // Start-up and folders.
    case spool = "HZ_SPOOL"
    case output = "HZ_OUTPUT"  // the output folder at start; a pair's primary image name after
    case config = "HZ_CONFIG"
    case waiting = "HZ_WAITING"
    // Inputs set aside, and errors.
    case file = "HZ_FILE"
    case role = "HZ_ROLE"
    case movedTo = "HZ_MOVED_TO"
    case reason = "HZ_REASON"
    // A published pair.
    case pair = "HZ_PAIR"
    case decision = "HZ_DECISION"
    case wide = "HZ_W"
    case tele = "HZ_T"
    case timeDifferenceMs = "HZ_DT_MS"
    case totalMs = "HZ_MS"
    case decodeMs = "HZ_DECODE_MS"
    case alignMs = "HZ_ALIGN_MS"
    case fuseMs = "HZ_FUSE_MS"
    case blendMs = "HZ_BLEND_MS"
    case encodeMs = "HZ_ENCODE_MS"
    case latencyMs = "HZ_LATENCY_MS"
    case size = "HZ_SIZE"
    case zoom = "HZ_ZOOM"
    case otherOutputs = "HZ_OTHER_OUTPUTS"
    case ev100Wide = "HZ_EV100_W"
    case ev100Tele = "HZ_EV100_T"
    case lumaWide = "HZ_LUMA_W"
    case lumaTele = "HZ_LUMA_T"
    case noiseWide = "HZ_NOISE_W"
    case noiseTele = "HZ_NOISE_T"
    case coverage = "HZ_COVERAGE"
    case alignDX = "HZ_ALIGN_DX"
    case alignDY = "HZ_ALIGN_DY"
    case alignInliers = "HZ_ALIGN_INLIERS"
    case alignModel = "HZ_ALIGN_MODEL"
    case alignScale = "HZ_ALIGN_SCALE"
    case alignRotation = "HZ_ALIGN_ROTATION"
    case alignReliable = "HZ_ALIGN_RELIABLE"
    case alignCorrelation = "HZ_ALIGN_CORRELATION"
    case warnings = "HZ_WARNINGS"

    /// The field for a stage's milliseconds, for the stages the journal reports.
    public static func milliseconds(of stage: Stage) -> JournalField? {
        switch stage {
        case .decode: .decodeMs
        case .align: .alignMs
        case .fuse: .fuseMs
        case .blend: .blendMs
        case .encode: .encodeMs
        case .source, .gate, .zoom, .maps: nil
        }
    }
}
