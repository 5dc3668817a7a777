import Foundation
import HZSystemd
import HZTestSupport
import Logging
import XCTest

final class JournalRoundTripTests: XCTestCase {
    func testEntryRoundTripsThroughJournald() throws {
        guard FileManager.default.fileExists(atPath: "/run/systemd/journal/socket") else {
            return XCTFail("journald is not running: run Scripts/start-journald as root (make test does)")
        }
        let run = UUID().uuidString
        let messageID = "8d45620c1a4348dbb17410da57c60c66"
        let note = "wide + tele — ünïcødé ✓\nsecond line"
        let raw = "bell\u{7}tab\tend"
        var logger = Logger(label: "hzsrd.test") { label in
            JournalLogHandler(
                label: label, identifier: "hzsrd-test",
                metadataProvider: Logger.MetadataProvider { ["HZ_TRACE": "t-1"] })
        }
        logger[metadataKey: "HZ_DECISION"] = "pending"
        logger[metadataKey: "HZ_STAGE"] = "spool"

        let line = #line + 1
        logger.notice(
            "fused pair ✓",
            metadata: [
                "HZ_TEST_RUN": "\(run)", "MESSAGE_ID": "\(messageID)", "HZ_DECISION": "fuse",
                "HZ_NOTE": "\(note)", "HZ_RAW": "\(raw)", "hz.frame-count": .stringConvertible(42),
            ])

        let entry = try XCTUnwrap(
            try JournalReader.entry(matching: "HZ_TEST_RUN=\(run)"),
            "no entry with HZ_TEST_RUN=\(run) within 5 s")
        let expected = [
            "MESSAGE": "fused pair ✓", "PRIORITY": "5", "SYSLOG_IDENTIFIER": "hzsrd-test",
            "LOGGER_LABEL": "hzsrd.test", "CODE_FILE": #fileID, "CODE_LINE": String(line),
            "CODE_FUNC": #function, "MESSAGE_ID": messageID, "HZ_TEST_RUN": run,
            "HZ_DECISION": "fuse", "HZ_STAGE": "spool", "HZ_TRACE": "t-1", "HZ_NOTE": note,
            "HZ_RAW": raw, "HZ_FRAME_COUNT": "42",
        ]
        for (name, value) in expected {
            XCTAssertEqual(entry[name], value, name)
        }
    }
}
