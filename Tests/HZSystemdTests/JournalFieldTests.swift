import Logging
import XCTest

@testable import HZSystemd

final class JournalFieldTests: XCTestCase {
    func testValidNamesStayAsTheyAre() {
        XCTAssertEqual(JournalField.sanitizedName("HZ_PAIR"), "HZ_PAIR")
        XCTAssertEqual(JournalField.sanitizedName("MESSAGE_ID"), "MESSAGE_ID")
    }

    func testLowercaseIsUppercasedAndOtherCharactersBecomeUnderscores() {
        XCTAssertEqual(JournalField.sanitizedName("hz.frame-count"), "HZ_FRAME_COUNT")
        XCTAssertEqual(JournalField.sanitizedName("größe mm"), "GR__E_MM")
    }

    func testNamesNotStartingWithALetterArePrefixed() {
        XCTAssertEqual(JournalField.sanitizedName("_SYSTEMD_UNIT"), "F__SYSTEMD_UNIT")
        XCTAssertEqual(JournalField.sanitizedName("2fa"), "F_2FA")
        XCTAssertEqual(JournalField.sanitizedName(""), "F_")
    }

    func testNamesAreCutTo64Characters() {
        XCTAssertEqual(JournalField.sanitizedName(String(repeating: "a", count: 100)), String(repeating: "A", count: 64))
        let prefixed = JournalField.sanitizedName("9" + String(repeating: "b", count: 100))
        XCTAssertEqual(prefixed.count, 64)
        XCTAssertTrue(prefixed.hasPrefix("F_9B"))
    }

    func testLeafValuesAreTheirPlainText() {
        XCTAssertEqual(Logger.MetadataValue.string("two words\nünï").journalText, "two words\nünï")
        XCTAssertEqual(Logger.MetadataValue.stringConvertible(42).journalText, "42")
        XCTAssertEqual(Logger.MetadataValue.stringConvertible(2.5).journalText, "2.5")
    }

    func testContainersAreCompactWithSortedKeys() {
        let value: Logger.MetadataValue = ["zoom": ["2.0", .stringConvertible(3)], "camera": "tele"]
        XCTAssertEqual(value.journalText, #"{"camera":"tele","zoom":["2.0","3"]}"#)
        XCTAssertEqual(Logger.MetadataValue.array([]).journalText, "[]")
    }

    func testLevelsMapToSyslogPriorities() {
        let priorities = Logger.Level.allCases.map(\.syslogPriority)
        XCTAssertEqual(priorities, [7, 7, 6, 5, 4, 3, 2])  // trace … critical
    }

    func testHandlerHasValueSemantics() {
        var original = JournalLogHandler(label: "hzsrd.test", identifier: "hzsrd")
        original[metadataKey: "HZ_STAGE"] = "spool"
        var copy = original
        copy[metadataKey: "HZ_STAGE"] = "publish"
        copy.logLevel = .trace
        XCTAssertEqual(original[metadataKey: "HZ_STAGE"], "spool")
        XCTAssertEqual(original.logLevel, .info)
    }
}
