import Foundation
import HZTestSupport
import XCTest

@testable import HZSpool

final class ResourceCheckTests: XCTestCase {
    /// The cameras' folders are made by the daemon, writable by its group and passing it on, so
    /// that what the capture account writes there can be moved out; one that exists is left.
    func testTheCamerasFoldersAreMadeForTheGroup() throws {
        let scratch = try ScratchFolder()
        let config = try DaemonConfig.parse("", relativeTo: scratch.path)
        XCTAssertEqual(FolderCheck.problems(config.paths, creating: true), [])
        try FileManager.default.createDirectory(atPath: "\(config.paths.spool)/T", withIntermediateDirectories: false)
        XCTAssertEqual(chmod("\(config.paths.spool)/T", 0o700), 0)
        XCTAssertEqual(FolderCheck.makeCameraFolders(config), [])
        func mode(_ name: String) throws -> Int? {
            try FileManager.default.attributesOfItem(atPath: "\(config.paths.spool)/\(name)")[.posixPermissions] as? Int
        }
        XCTAssertEqual(try mode("W"), 0o2770)
        XCTAssertEqual(try mode("T"), 0o700, "left as it was")
    }

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
