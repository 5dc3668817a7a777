import CFrameMemory
import Foundation
import HybridZoom
import XCTest

/// The allocator policy hzsr and hzsrd link in (CFrameMemory), which this test process links too.
final class FrameMemoryTests: XCTestCase {
    /// A 12 MP plane is 48 MB: fresh from the kernel it would fault in about 11 800 pages.
    func testAFreedFrameIsTheNextFramesMemoryUntilReleased() throws {
        try XCTSkipIf(ProcessInfo.processInfo.environment["HZSR_SANITIZED"] != nil, "a sanitizer's allocator replaces glibc's")
        func frame() -> Plane { Plane(width: 4032, height: 3024, value: 0.5) }
        var plane = frame()
        plane = Plane(width: 1, height: 1)
        let faultsBefore = minorFaults()
        plane = frame()
        XCTAssertLessThan(minorFaults() - faultsBefore, 500, "the second frame faulted its pages in again")

        plane = Plane(width: 1, height: 1)
        let kept = residentMegabytes()
        hz_release_freed_frames()
        XCTAssertGreaterThan(kept - residentMegabytes(), 40, "the freed frame stayed resident after the release")
        XCTAssertEqual(plane.pixels.count, 1)
    }

    private func minorFaults() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt
    }

    /// VmRSS of /proc/self/status.
    private func residentMegabytes() -> Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        let kilobytes = line.flatMap { Double($0.split(separator: " ").dropFirst().first ?? "") }
        return (kilobytes ?? 0) / 1024
    }
}
