import Foundation
import HZTestSupport
import XCTest

@testable import HZSpool

final class ResourceCheckTests: XCTestCase {
    func testAShortDiskAndTooFewDescriptorsAreNamed() throws {
        let scratch = try ScratchFolder()
        let paths = try DaemonConfig.parse("", relativeTo: scratch.path).paths
        XCTAssertEqual(FolderCheck.problems(paths, creating: true), [])
        XCTAssertNil(ResourceCheck.shortage(paths, minimumFree: 0))
        let disk = try XCTUnwrap(ResourceCheck.shortage(paths, minimumFree: 1 << 60))
        XCTAssertTrue(disk.hasPrefix("paths.work (\(paths.work)) has "), disk)
        XCTAssertTrue(disk.hasSuffix(" MB free, below intake.min_free_space_mb (1099511627776)"), disk)

        let resource = Int32(RLIMIT_NOFILE.rawValue)
        var saved = rlimit()
        XCTAssertEqual(getrlimit(resource, &saved), 0)
        defer { setrlimit(resource, &saved) }
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        var tight = saved
        tight.rlim_cur = rlim_t(open + 10)
        XCTAssertEqual(setrlimit(resource, &tight), 0)
        let descriptors = try XCTUnwrap(ResourceCheck.shortage(paths, minimumFree: 0))
        XCTAssertTrue(descriptors.hasSuffix("open files in use (RLIMIT_NOFILE), fewer than 32 left"), descriptors)
    }
}
