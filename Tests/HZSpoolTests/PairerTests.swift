import Foundation
import XCTest

@testable import HZSpool

final class PairerTests: XCTestCase {
    private let start = ContinuousClock.now

    private func frame(_ name: String, _ role: Role, at seconds: Double, arrival: Double = 0) -> Frame {
        Frame(
            path: "/spool/\(name)", relativePath: name, role: role, timestamp: Date(timeIntervalSince1970: 1_000 + seconds),
            timestampSource: .exif, arrival: start + .milliseconds(Int64(arrival * 1000)))
    }

    func testPairsWithinToleranceOnly() {
        var pairer = Pairer()
        XCTAssertEqual(pairer.add(frame("w1", .wide, at: 0), tolerance: 0.05), [])
        XCTAssertEqual(pairer.add(frame("t1", .tele, at: 0.08), tolerance: 0.05), [])
        let pairs = pairer.add(frame("t2", .tele, at: 0.03), tolerance: 0.05)
        XCTAssertEqual(pairs.map { [$0.wide.name, $0.tele.name] }, [["w1", "t2"]])
        XCTAssertEqual(pairer.waiting.map(\.name), ["t1"])
    }

    /// A burst: whatever order files arrive in, each W pairs with the T closest to it.
    func testClosestMatchWinsInAnyArrivalOrder() {
        let frames = [
            frame("w1", .wide, at: 0.00), frame("w2", .wide, at: 0.10), frame("w3", .wide, at: 0.20),
            frame("t1", .tele, at: 0.01), frame("t2", .tele, at: 0.12), frame("t3", .tele, at: 0.19),
        ]
        for order in [[0, 1, 2, 3, 4, 5], [3, 4, 5, 0, 1, 2], [1, 4, 0, 5, 3, 2], [5, 2, 4, 1, 3, 0]] {
            var pairer = Pairer()
            let pairs = order.flatMap { pairer.add(frames[$0], tolerance: 0.15) }
            XCTAssertEqual(Set(pairs.map { "\($0.wide.name)+\($0.tele.name)" }), ["w1+t1", "w2+t2", "w3+t3"], "order \(order)")
            XCTAssertTrue(pairer.waiting.isEmpty)
        }
    }

    /// A reload that widens the tolerance: frames that waited too far apart pair with the next
    /// frame that arrives, each with its nearest.
    func testAWiderToleranceLooksAtEveryWaitingFrameAgain() {
        var pairer = Pairer()
        for (name, role, time) in [("w1", Role.wide, 0.0), ("t1", .tele, 0.2), ("w2", .wide, 1.0), ("t2", .tele, 1.25)] {
            XCTAssertEqual(pairer.add(frame(name, role, at: time), tolerance: 0.1), [])
        }
        let pairs = pairer.add(frame("w3", .wide, at: 9), tolerance: 0.5)
        XCTAssertEqual(Set(pairs.map { "\($0.wide.name)+\($0.tele.name)" }), ["w1+t1", "w2+t2"])
        XCTAssertEqual(pairer.waiting.map(\.name), ["w3"])
    }

    /// Thousands of frames of one camera waiting (the other stopped), then the other's: every
    /// frame pairs with its own, wherever it arrives among them.
    func testManyWaitingFramesPairWithTheirOwn() {
        var pairer = Pairer()
        for i in 0..<3000 { XCTAssertEqual(pairer.add(frame("w\(i)", .wide, at: Double(i)), tolerance: 0.05), []) }
        let pairs = (0..<3000).reversed().flatMap { pairer.add(frame("t\($0)", .tele, at: Double($0) + 0.01), tolerance: 0.05) }
        XCTAssertEqual(pairs.map { [$0.wide.name, $0.tele.name] }, (0..<3000).reversed().map { ["w\($0)", "t\($0)"] })
        XCTAssertTrue(pairer.waiting.isEmpty)
    }

    func testTwoWideFramesNeverPair() {
        var pairer = Pairer()
        _ = pairer.add(frame("w1", .wide, at: 0), tolerance: 1)
        XCTAssertEqual(pairer.add(frame("w2", .wide, at: 0), tolerance: 1), [])
        XCTAssertEqual(pairer.waiting.count, 2)
    }

    func testSamePathReplacesInsteadOfDuplicating() {
        var pairer = Pairer()
        _ = pairer.add(frame("w1", .wide, at: 0), tolerance: 0.05)
        _ = pairer.add(frame("w1", .wide, at: 0), tolerance: 0.05)
        XCTAssertEqual(pairer.waiting.count, 1)
    }

    func testExpiryTakesOnlyFramesPastTheTimeout() {
        var pairer = Pairer()
        _ = pairer.add(frame("w1", .wide, at: 0, arrival: 0), tolerance: 0.05)
        _ = pairer.add(frame("w2", .wide, at: 5, arrival: 5), tolerance: 0.05)
        let expired = pairer.expire(now: start + .seconds(7), timeout: 6)
        XCTAssertEqual(expired.map(\.name), ["w1"])
        XCTAssertEqual(pairer.waiting.map(\.name), ["w2"])
    }
}
