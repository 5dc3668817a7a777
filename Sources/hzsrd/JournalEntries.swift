import HZSpool
import Logging

extension Logger {
    /// One journal entry of a kind, with `HZ_*` fields.
    func record(
        _ event: JournalEvent, _ message: @autoclosure () -> Logger.Message,
        level: Logger.Level = .info, _ fields: [JournalField: Logger.MetadataValue] = [:],
        file: String = #fileID, function: String = #function, line: UInt = #line
    ) {
        var metadata = Logger.Metadata(uniqueKeysWithValues: fields.map { ($0.key.rawValue, $0.value) })
        metadata["MESSAGE_ID"] = .string(event.rawValue)
        log(level: level, message(), metadata: metadata, file: file, function: function, line: line)
    }
}
