import XCTest

@testable import HybridZoom

final class StatisticsTests: XCTestCase {
    func testMedianIsTheSortedMiddle() {
        var random = SeededRandom(seed: 3)
        for count in [1, 2, 3, 4, 7, 10, 101, 1000, 1001] {
            // Few distinct values, so that many equal the pivot.
            let values = (0..<count).map { _ in Double(Int.random(in: 0..<(count / 3 + 2), using: &random)) }
            let sorted = values.sorted(), middle = count / 2
            let expected = count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
            XCTAssertEqual(median(values), expected, "\(count) values")
        }
        XCTAssertTrue(median([]).isNaN)
    }

    func testSelectionPartitionsAroundTheElement() {
        var random = SeededRandom(seed: 5)
        var values = (0..<500).map { _ in Double.random(in: -1...1, using: &random) }
        let sorted = values.sorted()
        for k in [0, 1, 249, 250, 498, 499] {
            XCTAssertEqual(select(k, in: &values), sorted[k])
            XCTAssertTrue(values[..<k].allSatisfy { $0 <= sorted[k] } && values[(k + 1)...].allSatisfy { $0 >= sorted[k] })
        }
    }
}
