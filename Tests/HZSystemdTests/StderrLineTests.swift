import Logging
import XCTest

@testable import HZSystemd

final class StderrLineTests: XCTestCase {
    func testLevelMessageAndPlainFields() {
        let line = StderrLine.format(
            level: .warning, message: "disk full",
            fields: [JournalField(name: "HZ_PAIR", value: "p-0001"), JournalField(name: "HZ_FREE_MB", value: "12")])
        XCTAssertEqual(line, "warning disk full HZ_PAIR=p-0001 HZ_FREE_MB=12")
    }

    func testMessageWithoutFields() {
        XCTAssertEqual(StderrLine.format(level: .info, message: "started", fields: []), "info started")
    }

    func testValuesWithWhitespaceOrEmptyAreQuoted() {
        let line = StderrLine.format(
            level: .info, message: "m",
            fields: [JournalField(name: "HZ_NOTE", value: "two words"), JournalField(name: "HZ_EMPTY", value: "")])
        XCTAssertEqual(line, #"info m HZ_NOTE="two words" HZ_EMPTY="""#)
    }

    func testQuotesAndBackslashesInsideQuotesAreEscaped() {
        let line = StderrLine.format(
            level: .error, message: "m", fields: [JournalField(name: "HZ_NOTE", value: #"say "hi" \o/"#)])
        XCTAssertEqual(line, #"error m HZ_NOTE="say \"hi\" \\o/""#)
    }

    func testLineBreaksAreEscapedSoTheEntryStaysOneLine() {
        let line = StderrLine.format(
            level: .critical, message: "first\r\nsecond",
            fields: [JournalField(name: "HZ_NOTE", value: "a\nb")])
        XCTAssertEqual(line, #"critical first\r\nsecond HZ_NOTE="a\nb""#)
    }

    func testUnicodeWithoutWhitespaceIsNotQuoted() {
        let line = StderrLine.format(level: .debug, message: "größe", fields: [JournalField(name: "HZ_LENS", value: "télé")])
        XCTAssertEqual(line, "debug größe HZ_LENS=télé")
    }
}
