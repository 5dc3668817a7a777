import Foundation

/// Why an SVG could not be turned into a PNG.
public enum RasterizeError: Error, CustomStringConvertible {
    case toolMissing
    case failed(status: Int32, standardError: String)

    public var description: String {
        switch self {
        case .toolMissing:
            "rsvg-convert not found: install librsvg2-bin (make deps does)"
        case .failed(let status, let standardError):
            "rsvg-convert exited with status \(status): \(standardError.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }
}

/// Renders `svg` to a PNG at `pngPath`, one pixel per SVG unit, with librsvg's `rsvg-convert`.
///
/// The SVG goes through a temporary file rather than a pipe, so that a tool that fails early cannot
/// leave this process writing into a closed pipe.
public func rasterizeSVG(_ svg: String, to pngPath: String) throws {
    try rasterizeSVG(svg, to: pngPath, searchPath: ProcessInfo.processInfo.environment["PATH"] ?? "")
}

/// `rasterizeSVG` looking for the tool in `searchPath` (colon-separated folders, like `PATH`).
func rasterizeSVG(_ svg: String, to pngPath: String, searchPath: String) throws {
    guard let tool = executable(named: "rsvg-convert", in: searchPath) else { throw RasterizeError.toolMissing }
    let svgFile = FileManager.default.temporaryDirectory.appendingPathComponent("hzsr-\(UUID().uuidString).svg")
    try Data(svg.utf8).write(to: svgFile)
    defer { try? FileManager.default.removeItem(at: svgFile) }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = ["--format", "png", "--output", pngPath, svgFile.path]
    let standardError = Pipe()
    process.standardError = standardError
    try process.run()
    let message = standardError.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw RasterizeError.failed(
            status: process.terminationStatus,
            standardError: String(decoding: message, as: UTF8.self))
    }
}

private func executable(named name: String, in searchPath: String) -> String? {
    searchPath.split(separator: ":")
        .map { "\($0)/\(name)" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }
}
