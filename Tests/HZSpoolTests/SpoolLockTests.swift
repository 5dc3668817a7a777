import Foundation
import HZTestSupport
import XCTest

@testable import HZSpool

final class SpoolLockTests: XCTestCase {
    /// A second daemon on the same folders is refused and told the first one's pid.
    func testASecondHolderIsRefusedWithThePid() throws {
        let scratch = try ScratchFolder()
        let first = try SpoolLock(work: scratch.path)
        XCTAssertEqual(SpoolLock.holder(work: scratch.path), getpid())
        XCTAssertThrowsError(try SpoolLock(work: scratch.path)) { error in
            XCTAssertTrue("\(error)".hasSuffix("another hzsrd (pid \(getpid())) is using these folders"), "\(error)")
        }
        withExtendedLifetime(first) {}
    }

    /// `hzsr status` looking at the lock (a shared lock for an instant) while a daemon starts:
    /// the daemon waits the instant out instead of taking it for another daemon.
    func testADaemonStartingWhileStatusLooksTakesTheLock() throws {
        let scratch = try ScratchFolder()
        let looking = open("\(scratch.path)/\(SpoolLock.fileName)", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        XCTAssertEqual(flock(looking, LOCK_SH | LOCK_NB), 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { close(looking) }
        XCTAssertNoThrow(try SpoolLock(work: scratch.path))
    }
}
