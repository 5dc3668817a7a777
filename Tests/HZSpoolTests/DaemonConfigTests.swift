import Foundation
import HZFusionNet
import HybridZoom
import XCTest

@testable import HZSpool

final class DaemonConfigTests: XCTestCase {
    private var shippedConfig: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config/hzsrd.yaml").path
    }

    /// The shipped file documents the defaults: it must say exactly what an empty file means.
    func testShippedConfigStatesTheDefaults() throws {
        let shipped = try DaemonConfig.load(from: shippedConfig, relativeTo: "/srv/rig")
        let defaults = try DaemonConfig.parse("", relativeTo: "/srv/rig")
        XCTAssertEqual(shipped.paths, defaults.paths)
        XCTAssertEqual(shipped.pairing, defaults.pairing)
        XCTAssertEqual(shipped.intake, defaults.intake)
        XCTAssertEqual(shipped.rig, defaults.rig)
        XCTAssertEqual(shipped.output, defaults.output)
        XCTAssertEqual(shipped.keepInputs, defaults.keepInputs)
        XCTAssertEqual(shipped.metricsTextfile, defaults.metricsTextfile)
        XCTAssertEqual(shipped.fusion, defaults.fusion)
        XCTAssertEqual(shipped.gate, defaults.gate)
        XCTAssertEqual(shipped.blend.settings.maps.map(\.name), defaults.blend.settings.maps.map(\.name))
        XCTAssertEqual(shipped.blend.settings.smoothingSigma, defaults.blend.settings.smoothingSigma)
        XCTAssertEqual(shipped.blend.settings.featherWidth, defaults.blend.settings.featherWidth)
        XCTAssertNil(shipped.blend.autofocusRegion)
        XCTAssertEqual(shipped.timestamps.timeZone, defaults.timestamps.timeZone)
        XCTAssertEqual(shipped.roles.folders, defaults.roles.folders)
        XCTAssertEqual(shipped.roles.patterns.mapValues(\.source), defaults.roles.patterns.mapValues(\.source))
        XCTAssertEqual(shipped.paths.spool, "/srv/rig/spool")
    }

    /// A medium-format camera's "100 MP" frame is 101.8 MP: the defaults must take it in.
    func testDefaultsTakeInMediumFormatFrames() throws {
        let defaults = try DaemonConfig.parse("", relativeTo: "/srv/rig")
        XCTAssertGreaterThanOrEqual(defaults.intake.maxPixels, 11648 * 8736)
    }

    func testErrorsNameTheKeyAndLine() {
        assertError("pairing:\n  tolerance: soon\n", key: "pairing.tolerance", line: 2, mentions: "number")
        assertError("pairing:\n  tolerance: -1\n", key: "pairing.tolerance", mentions: "between")
        assertError("pairing:\n  tolerence: 0.1\n", key: "pairing.tolerence", mentions: "unknown key")
        assertError("outptu: {}\n", key: "outptu", mentions: "unknown key")
        assertError("timestamps:\n  time_zone: Mars/Olympus\n", key: "timestamps.time_zone", mentions: "Mars/Olympus")
        assertError("roles:\n  wide:\n    pattern: '(['\n", key: "roles.wide.pattern", mentions: "regular expression")
        assertError("rig:\n  center_offset: [0.1]\n", key: "rig.center_offset", mentions: "2 numbers")
        assertError("rig:\n  rotation: 30\n", key: "rig.rotation", mentions: "between")
        assertError("rig:\n  zoom_ratio: 1.5\n  center_offset: [0.3, 0]\n", key: "rig.center_offset", mentions: "within ±0.1667")
        assertError(
            "output:\n  zoom: [1, 2, 4]\n  size: [30000, 30000]\n", key: "output.size", mentions: "3 images of 30000×30000 would take about")
        assertError("output:\n  size: [12, 8]\n", key: "output.size", mentions: "16")
        assertError("output:\n  size: tel\n", key: "output.size", mentions: "'tel' must be 'tele' or [width, height]")
        assertError("output:\n  maps: often\n", key: "output.maps", line: 2, mentions: "true or false")
        assertError("paths:\n  work: spool/work\n", key: "paths.work", mentions: "inside paths.spool")
        assertError("paths:\n  spool: work/spool\n", key: "paths.spool", mentions: "inside paths.work")
        assertError("paths:\n  output: work/out\n", key: "paths.output", mentions: "inside paths.work")
        assertError("paths:\n  spool: /\n", key: "paths.work", mentions: "inside paths.spool")
        assertError("metrics:\n  textfile: work/hzsrd.prom\n", key: "metrics.textfile", mentions: "inside paths.work")
        assertError("intake:\n  extensions: jpg j/pg\n", key: "intake.extensions", mentions: "'j/pg' is not a file extension")
        assertError("roles:\n  wide: {folder: '', pattern: ''}\n", key: "roles.wide", mentions: "needs a folder or a pattern")
        assertError("paths:\n  archive: out\n", key: "paths.archive", mentions: "own")
        assertError("fusion:\n  method: magic\n", key: "fusion.method", mentions: "classical")
        assertError("fusion:\n  precision: int4\n", key: "fusion.precision", mentions: "float32")
        assertError("blend:\n  maps: [occlusion, fog]\n", key: "blend.maps", mentions: "fog")
        assertError("blend:\n  autofocus_region: [0.5, 0.5, 0.6, 0.1]\n", key: "blend.autofocus_region", mentions: "inside")
        assertError("gate:\n  min_ev100: dark\n", key: "gate.min_ev100", mentions: "number")
    }

    /// Parsing reads the model's path only; loading it is a step of its own, which names the key.
    func testTheModelIsLoadedApartFromParsingAndOnlyOncePerFile() throws {
        let config = try DaemonConfig.parse("fusion:\n  model: /nonexistent/fusion.safetensors\n", relativeTo: "/")
        XCTAssertThrowsError(try FusionStage(config.fusion)) { error in
            XCTAssertEqual((error as? ConfigError)?.key, "fusion.model")
            XCTAssertTrue("\(error)".contains("/nonexistent/fusion.safetensors"), "\(error)")
        }
        // A model loaded from a file that is gone since: reused, so not read again.
        let model = FileManager.default.temporaryDirectory.appendingPathComponent("hzsr-model-\(UUID().uuidString).safetensors").path
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        try FileManager.default.copyItem(
            atPath: repository.appendingPathComponent("Sources/HZFusionNet/Resources/fusion-unet.safetensors").path,
            toPath: model)
        let loaded = try FusionStage(FusionSettings(method: .network, model: model))
        try FileManager.default.removeItem(atPath: model)
        XCTAssertNotNil(try FusionStage(FusionSettings(method: .network, model: model, bandSplitSigma: 2), reusing: loaded).network)
        XCTAssertThrowsError(try FusionStage(FusionSettings(method: .network, model: model)), "without the loaded one, it is read")
        XCTAssertNil(try FusionStage(FusionSettings(method: .classical), reusing: loaded).network)
    }

    /// `precision: float32` keeps the network in floats; `auto` lets it pick 8 bits where it can.
    func testPrecisionFloat32KeepsTheNetworkInFloats() throws {
        let float32 = try DaemonConfig.parse("fusion:\n  precision: float32\n", relativeTo: "/")
        XCTAssertEqual(try FusionStage(float32.fusion).network?.network.precision, .float32)
        let auto = try DaemonConfig.parse("fusion: {}\n", relativeTo: "/")
        XCTAssertEqual(auto.fusion.precision, .auto)
        XCTAssertEqual(try FusionStage(auto.fusion).network?.network.precision, try FusionNetwork.shipped().precision)
    }

    func testValuesAreRead() throws {
        let config = try DaemonConfig.parse(
            """
            paths: {spool: /data/in, output: ../published}
            pairing: {tolerance: 0.2, orphan_timeout: 5}
            rig: {zoom_ratio: 3.5, center_offset: [0.01, -0.02], rotation: -0.4}
            output: {zoom: 2.5, size: [1920, 1080], jpeg_quality: 80, maps: true}
            timestamps: {time_zone: Europe/Berlin, clock_offset: {tele: -0.25}}
            fusion: {method: 'off'}
            gate: {min_ev100: 5.5, max_tele_noise_ratio: 2, max_rotation: 45}
            blend: {maps: [occlusion, rejection], autofocus_region: [0.2, 0.3, 0.1, 0.1]}
            intake: {extensions: .JPG .jpeg}
            """, relativeTo: "/srv/rig")
        XCTAssertEqual(config.intake.extensions, ["jpg", "jpeg"], "a leading dot says the same")
        XCTAssertEqual(config.fusion.method, .off)
        XCTAssertEqual(config.gate.minimumEV100, 5.5)
        XCTAssertEqual(config.gate.maximumTeleNoiseRatio, 2)
        XCTAssertEqual(config.captureSettings.alignment.coarse.maximumRotation, 45)
        XCTAssertEqual(config.blend.settings.maps.map(\.name), ["occlusion", "rejection"])
        XCTAssertEqual(config.blend.autofocusRegion, Rect(x: 0.2, y: 0.3, width: 0.1, height: 0.1))
        XCTAssertEqual(config.paths.spool, "/data/in")
        XCTAssertEqual(config.paths.output, "/srv/published")
        XCTAssertEqual(config.pairing, .init(tolerance: 0.2, orphanTimeout: 5))
        XCTAssertEqual(config.rig.zoomRatio, 3.5)
        XCTAssertEqual(config.rig.centerOffset.y, -0.02)
        XCTAssertEqual(config.rig.rotation, -0.4)
        XCTAssertEqual(config.output.zooms, [.ratio(2.5)])
        XCTAssertEqual(config.output.size, .fixed(.init(width: 1920, height: 1080)))
        XCTAssertTrue(config.output.maps)
        XCTAssertFalse(try DaemonConfig.parse("", relativeTo: "/srv").output.maps, "off by default")
        XCTAssertEqual(config.timestamps.clockOffset[.tele], -0.25)
        XCTAssertEqual(config.timestamps.timeZone.identifier, "Europe/Berlin")
    }

    func testOutputZoomIsOneZoomOrAList() throws {
        func zooms(_ yaml: String) throws -> [DaemonConfig.OutputZoom] {
            try DaemonConfig.parse(yaml, relativeTo: "/srv").output.zooms
        }
        XCTAssertEqual(try zooms(""), [.tele])
        XCTAssertEqual(try zooms("output: {zoom: tele}"), [.tele])
        XCTAssertEqual(try zooms("output: {zoom: 3}"), [.ratio(3)])
        XCTAssertEqual(try zooms("output: {zoom: [tele, 1.5, 4]}"), [.tele, .ratio(1.5), .ratio(4)])
        XCTAssertEqual(try zooms("output:\n  zoom:\n    - 1\n    - tele\n"), [.ratio(1), .tele])
        XCTAssertEqual(try zooms("rig: {zoom_ratio: 2.5}\noutput: {zoom: [tele, 2, 20]}"), [.tele, .ratio(2), .ratio(20)])
    }

    func testOutputZoomErrorsNameTheKeyAndLine() {
        assertError("output:\n  zoom: []\n", key: "output.zoom", line: 2, mentions: "empty list")
        assertError("output:\n  zoom: wide\n", key: "output.zoom", line: 2, mentions: "'tele' (rig.zoom_ratio) or a number from 1 to 20, got 'wide'")
        assertError("output:\n  zoom: 25\n", key: "output.zoom", mentions: "got '25'")
        assertError("output:\n  zoom:\n    - tele\n    - 0.5\n", key: "output.zoom", line: 4, mentions: "got '0.5'")
        assertError("output:\n  zoom: [tele, [2, 3]]\n", key: "output.zoom", mentions: "got 'a collection'")
        assertError("output:\n  zoom: [1.5, 4, 1.50]\n", key: "output.zoom", mentions: "lists zoom 1.5 twice")
        assertError(
            "rig: {zoom_ratio: 2.5}\noutput:\n  zoom: [tele, 2.5]\n", key: "output.zoom", line: 3,
            mentions: "lists zoom 2.5 twice ('tele' is rig.zoom_ratio, 2.5)")
        assertError("output:\n  zoom: [2, tele]\n", key: "output.zoom", mentions: "lists zoom 2 twice")
    }

    /// One pass names every problem: an unknown key does not hide a bad value, and one section's
    /// problem does not hide another's; `problems(in:)` adds a model that cannot be loaded.
    func testEveryProblemIsNamedInOnePass() throws {
        let yaml = """
            pairing:
              tolerance: 0.05
              tolerence: 0.1
              orphan_timeout: never
            gate:
              min_ev100: dark
            fusion:
              model: /nonexistent/fusion.safetensors
            colour: vivid
            """
        XCTAssertThrowsError(try DaemonConfig.parse(yaml, relativeTo: "/srv")) { error in
            let problems = (error as? ConfigProblems)?.errors ?? []
            XCTAssertEqual(problems.map(\.key), ["pairing.tolerence", "pairing.orphan_timeout", "gate.min_ev100", "colour"])
            XCTAssertEqual(problems.map(\.line), [3, 4, 6, 9])
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hzsr-config-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let problems = DaemonConfig.problems(in: file.path, relativeTo: "/srv")
        XCTAssertEqual(problems.map(\.key), ["pairing.tolerence", "pairing.orphan_timeout", "gate.min_ev100", "colour", "fusion.model"])
        XCTAssertTrue(problems.last!.description.contains("/nonexistent/fusion.safetensors"), "\(problems.last!)")
        XCTAssertEqual(DaemonConfig.problems(in: "/nonexistent/hzsrd.yaml", relativeTo: "/").map(\.key), ["/nonexistent/hzsrd.yaml"])
    }

    private func assertError(
        _ yaml: String, key: String, line: Int? = nil, mentions text: String,
        file: StaticString = #filePath, lineNumber: UInt = #line
    ) {
        XCTAssertThrowsError(try DaemonConfig.parse(yaml, relativeTo: "/srv"), file: file, line: lineNumber) { error in
            guard let problems = error as? ConfigProblems, problems.errors.count == 1, let error = problems.errors.first else {
                return XCTFail("\(error)", file: file, line: lineNumber)
            }
            XCTAssertEqual(error.key, key, file: file, line: lineNumber)
            if let line { XCTAssertEqual(error.line, line, file: file, line: lineNumber) }
            XCTAssertTrue(error.description.contains(text), "\(error)", file: file, line: lineNumber)
        }
    }

    /// The network fusing a 100 MP pair onto T's grid holds no whole `Y_src`, and the memory
    /// estimate counts 4.5 bytes a pixel for it; classical fusion, an output beside T's grid, a
    /// turned rig (whose `Y_src` is held) and 12 MP frames take the held path's 7.
    func testTheEstimateKnowsWhenY_srcIsMadeAsRead() throws {
        let large = Size(width: 11648, height: 8736), small = Size(width: 4032, height: 3024)
        func made(_ yaml: String, _ size: Size = large) throws -> Bool {
            try DaemonConfig.parse(yaml, relativeTo: "/").makesSourceAsRead(
                wide: size, tele: size, largestHeld: CaptureSettings.defaultLargestHeldSource)
        }
        XCTAssertTrue(try made(""))
        XCTAssertFalse(try made("fusion: {method: classical}\n"))
        XCTAssertFalse(try made("output: {zoom: [tele, 1]}\n"))
        XCTAssertFalse(try made("rig: {rotation: 0.5}\n"))
        XCTAssertFalse(try made("", small))
        XCTAssertEqual(MemoryEstimate.bytes(wide: large, tele: large, sourceMadeAsRead: true, network: nil) >> 20, 1073)
        XCTAssertEqual(MemoryEstimate.bytes(wide: large, tele: large, network: nil) >> 20, 1558)
    }

    /// The fit was measured with two network workers; a machine with more cores runs one per
    /// core, at most one per tile, each with its tile workspace (and, above 32 MP, its tile's
    /// window of `Y_src`).
    func testEachNetworkWorkerBeyondTheMeasuredTwoIsCounted() throws {
        let large = Size(width: 11648, height: 8736), small = Size(width: 4032, height: 3024)
        func megabytes(_ size: Size, made: Bool = false, network: (workers: Int, bytesEach: Int)?) -> Int {
            MemoryEstimate.bytes(wide: size, tele: size, sourceMadeAsRead: made, network: network) >> 20
        }
        XCTAssertEqual(megabytes(small, network: nil), 362)
        XCTAssertEqual(megabytes(small, network: (2, 38 << 20)), 362)
        XCTAssertEqual(megabytes(small, network: (1, 38 << 20)), 362, "fewer never lower it")
        XCTAssertEqual(megabytes(small, network: (4, 38 << 20)), 362 + 2 * 38)
        XCTAssertEqual(megabytes(large, made: true, network: (16, 61 << 20)), 1073 + 14 * 61)

        let network = try FusionNetwork.shipped()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let twelve = network.workerMemory(for: small, makesSource: false)
        XCTAssertEqual(twelve.workers, min(4, cores), "a 12 MP frame is four 2048-pixel tiles")
        let hundred = network.workerMemory(for: large, makesSource: true)
        XCTAssertEqual(hundred.workers, min(30, cores))
        // The workspace measured in the daemon: 38 MB with 8-bit coarse levels, 76 in floats;
        // Y_src's window adds 4 bytes a window pixel.
        let workspace = network.precision == .int8 ? 38 : 76
        XCTAssertEqual(Double(twelve.bytesEach >> 20), Double(workspace), accuracy: 0.15 * Double(workspace))
        XCTAssertGreaterThan(hundred.bytesEach - network.workerMemory(for: large, makesSource: false).bytesEach, 18 << 20)
    }
}
