import Logging

/// The kinds of journal entry the daemon writes, each with its own `MESSAGE_ID`, so that
/// `journalctl MESSAGE_ID=…` finds every entry of one kind (ids made once with `systemd-id128 new`).
enum JournalEvent: String, CaseIterable {
    case started = "b3681135163a4daa9a58efec00834e5e"
    case pairFused = "dc4e41589e0b4d8082808417109df366"
    case fusionSkipped = "0cd3c01543cf4a069f9cf5ecc5ed85d7"
    case inputQuarantined = "b21b4f82295e48b4bbfa427751ae93a3"
    case orphan = "45b46f43ff034a4ebe25783c52f5c198"
    case rescan = "2befa31a3b324460b2aef2f52ae45443"
    case error = "5f667256390d4f799fdaf745db0bd8c8"
    case reloaded = "8bd93ce90d7249908c39513daeebbe3e"
    case stopping = "a1f427a16bf5422dae9410b0f26888c8"
}

extension Logger {
    /// One journal entry of a kind, with `HZ_*` fields.
    func record(_ event: JournalEvent, _ message: @autoclosure () -> Logger.Message,
                level: Logger.Level = .info, _ fields: [String: Logger.MetadataValue] = [:],
                file: String = #fileID, function: String = #function, line: UInt = #line) {
        var metadata = fields
        metadata["MESSAGE_ID"] = .string(event.rawValue)
        log(level: level, message(), metadata: metadata, file: file, function: function, line: line)
    }
}
