import Glibc
import Logging

/// The daemon's one logging path: each log call becomes one structured journal entry.
///
/// An entry carries `MESSAGE`, `PRIORITY`, `SYSLOG_IDENTIFIER`, `LOGGER_LABEL`, `CODE_FILE`,
/// `CODE_LINE`, `CODE_FUNC` and one field per metadata entry. Metadata keys become valid field
/// names (uppercased, other characters replaced by `_`, `F_` prefixed when not starting with a
/// letter, at most 64 characters), so callers pass `HZ_PAIR` or `MESSAGE_ID` as they are.
/// When no journald answers (not under systemd), the entry goes to stderr as one line instead.
///
/// Start-up: `JournalLogHandler.bootstrap(identifier: "hzsrd")`.
public struct JournalLogHandler: LogHandler {
    /// The logger's label, kept in `LOGGER_LABEL` to tell the daemon's subsystems apart.
    public let label: String
    /// The `SYSLOG_IDENTIFIER` of every entry, what `journalctl -t` filters on.
    public let identifier: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(
        label: String, identifier: String, logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.identifier = identifier
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
    }

    /// Makes this handler the process-wide backend; call once, before the first `Logger` exists.
    public static func bootstrap(
        identifier: String, logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        LoggingSystem.bootstrap(
            { label, provider in
                JournalLogHandler(
                    label: label, identifier: identifier, logLevel: logLevel, metadataProvider: provider)
            },
            metadataProvider: metadataProvider)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let message = event.message.description
        let metadataFields = metadataFields(merging: event.metadata)
        if JournalEntry.send(standardFields(of: event, message: message) + metadataFields) < 0 {
            writeToStderr(StderrLine.format(level: event.level, message: message, fields: metadataFields))
        }
    }

    private func standardFields(of event: LogEvent, message: String) -> [JournalField] {
        [
            JournalField(name: "MESSAGE", value: message),
            JournalField(name: "PRIORITY", value: String(event.level.syslogPriority)),
            JournalField(name: "SYSLOG_IDENTIFIER", value: identifier),
            JournalField(name: "LOGGER_LABEL", value: label),
            JournalField(name: "CODE_FILE", value: event.file),
            JournalField(name: "CODE_LINE", value: String(event.line)),
            JournalField(name: "CODE_FUNC", value: event.function),
        ]
    }

    /// The handler's metadata, overridden by the provider's, overridden by the call's.
    /// Sorted by name so the stderr line does not depend on dictionary order.
    private func metadataFields(merging callMetadata: Logger.Metadata?) -> [JournalField] {
        var merged = metadata
        if let provided = metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let callMetadata {
            merged.merge(callMetadata) { _, new in new }
        }
        return
            merged
            .map { JournalField(name: JournalField.sanitizedName($0.key), value: $0.value.journalText) }
            .sorted { $0.name < $1.name }
    }

    /// One `write` per line, so lines from concurrent loggers never interleave.
    private func writeToStderr(_ line: String) {
        var terminated = line + "\n"
        terminated.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
