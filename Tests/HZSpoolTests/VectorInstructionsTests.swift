import XCTest

@testable import HZSpool

/// hzsrd refuses to start, saying why, on a CPU its pixel code cannot run on.
final class VectorInstructionsTests: XCTestCase {
    func testACPUWithoutAVX2OrFMAIsNamedAndOneWithThemPasses() throws {
        let problem = try XCTUnwrap(VectorInstructions.missing(avx2: false, fma: false))
        XCTAssertTrue(problem.contains("avx2 and fma"), problem)
        XCTAssertTrue(try XCTUnwrap(VectorInstructions.missing(avx2: true, fma: false)).contains("lacks fma,"))
        XCTAssertNil(VectorInstructions.missing(avx2: true, fma: true))
        XCTAssertNil(VectorInstructions.missing(), "the machine the tests run on runs the tests, and CPUID says so")
    }
}
