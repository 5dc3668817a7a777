import HZSpool
import XCTest

/// hzsrd refuses to start, saying why, on a CPU its pixel code cannot run on.
final class VectorInstructionsTests: XCTestCase {
    func testACPUWithoutAVX2OrFMAIsNamedAndOneWithThemPasses() throws {
        #if arch(x86_64)
        let old = "processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx\n"
        let problem = try XCTUnwrap(VectorInstructions.missing(cpuinfo: old))
        XCTAssertTrue(problem.contains("avx2 and fma"), problem)
        XCTAssertNil(VectorInstructions.missing(cpuinfo: "flags\t\t: fpu sse2 avx avx2 fma bmi2\n"))
        XCTAssertNil(VectorInstructions.missing(), "the machine the tests run on runs the tests")
        #else
        XCTAssertNil(VectorInstructions.missing(cpuinfo: "flags : fp asimd\n"), "only x86-64 builds need AVX2")
        #endif
    }
}
