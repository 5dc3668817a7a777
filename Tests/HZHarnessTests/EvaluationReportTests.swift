import Foundation
import HZHarness
import HZTestSupport
import HybridZoom
import XCTest

final class EvaluationReportTests: XCTestCase {
    private func scores(_ psnr: Double, tiles: Double = 0) -> MethodScores {
        MethodScores(
            psnrTele: psnr, ssimTele: psnr / 100, psnrWhole: psnr - 1, ssimWhole: psnr / 200,
            tilesWorseThanWideZoom: tiles)
    }

    private func report(_ telePSNRs: [[String: Double]]) -> EvaluationReport {
        let captures = telePSNRs.enumerated().map { index, byMethod in
            CaptureResult(
                capture: String(format: "%04d", index + 1), photo: "photo\(index).jpg",
                scores: byMethod.mapValues { scores($0, tiles: $0 / 100) })
        }
        return EvaluationReport(set: "sim", methods: ["wide-zoom", "fusion"], captures: captures)
    }

    func testMediansAreTakenFieldByField() {
        let odd = report([["wide-zoom": 30, "fusion": 33], ["wide-zoom": 28, "fusion": 35], ["wide-zoom": 31, "fusion": 34]])
        XCTAssertEqual(odd.median["wide-zoom"], scores(30, tiles: 0.3))
        XCTAssertEqual(odd.median["fusion"], scores(34, tiles: 0.34))
        let even = report([["wide-zoom": 30], ["wide-zoom": 28, "fusion": 35], ["wide-zoom": 31], ["wide-zoom": 40, "fusion": 37]])
        XCTAssertEqual(even.median["wide-zoom"]!.psnrTele, 30.5)
        XCTAssertEqual(even.median["wide-zoom"]!.psnrWhole, 29.5)
        XCTAssertEqual(even.median["fusion"]!.psnrTele, 36, "only the captures that scored it count")
        XCTAssertNil(report([]).median["fusion"])
    }

    func testMarkdownTableHasARowPerMethod() {
        let table = report([["wide-zoom": 30.123, "fusion": 33.456]]).markdownTable()
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0], "| Method | PSNR tele (dB) | SSIM tele | PSNR whole (dB) | SSIM whole | Tiles worse |")
        XCTAssertEqual(lines[2], "| wide-zoom | 30.12 | 0.3012 | 29.12 | 0.1506 | 30.1% |")
        XCTAssertEqual(lines[3], "| fusion | 33.46 | 0.3346 | 32.46 | 0.1673 | 33.5% |")
        XCTAssertTrue(lines[5].hasPrefix("Medians over 1 captures of set \"sim\"."), lines[5])
    }

    func testReportRoundTripsThroughSnakeCaseJSON() throws {
        let original = report([["wide-zoom": 30, "fusion": 33], ["wide-zoom": 29, "fusion": 31]])
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = try encoder.encode(original)
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains("\"tiles_worse_than_wide_zoom\""))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let decoded = try decoder.decode(EvaluationReport.self, from: json)
        XCTAssertEqual(decoded.median, original.median)
        XCTAssertEqual(decoded.captures.map(\.scores), original.captures.map(\.scores))
    }

    func testChartRastersAtItsSize() throws {
        let folder = try ScratchFolder("hzsr-chart")
        let sample = report(
            (0..<20).map { index in
                let wave = sin(Double(index))
                return ["wide-zoom": 30 + 2 * wave, "fusion": 32.5 + 2 * wave + Double(index % 3) / 2]
            })
        let svg = sample.chartSVG()
        XCTAssertTrue(svg.contains(">wide-zoom<") && svg.contains(">fusion<"), "the legend names the methods")
        XCTAssertTrue(svg.contains(" dB<"), "ticks are labelled in dB")
        try rasterizeSVG(svg, to: "\(folder.path)/chart.png")
        XCTAssertEqual(try PNGFile.size(at: "\(folder.path)/chart.png"), Size(width: 1000, height: 500))
    }
}
