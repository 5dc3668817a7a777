import Foundation
import HZSpool
import XCTest

/// README says what the daemon does: the journal fields it lists are exactly the daemon's.
final class DocumentationTests: XCTestCase {
    func testReadmeListsEveryJournalFieldAndNoOther() throws {
        let readme = try String(contentsOf: DaemonHarness.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let journal = try XCTUnwrap(readme.components(separatedBy: "\n## Journal\n").last?.components(separatedBy: "\n## ").first)
        let listed = Set(journal.matches(of: /HZ_[A-Z0-9_]*[A-Z0-9]/).map { String($0.output) })
        XCTAssertEqual(listed, Set(JournalField.allCases.map(\.rawValue)))
    }
}
