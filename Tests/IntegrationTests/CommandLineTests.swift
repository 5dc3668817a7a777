import Foundation
import HZHarness
import HZImageIO
import HZSpool
import HZTestSupport
import HybridZoom
import XCTest

/// The `hzsr` command line on small images: the harness end to end, as a person runs it.
final class CommandLineTests: XCTestCase {
    private var scratch: ScratchFolder!

    /// Two real camera photos (small fixtures), one per side of a split.
    override func setUpWithError() throws {
        scratch = try ScratchFolder("hzsr-cli")
        let fixtures = DaemonHarness.repositoryRoot.appendingPathComponent("Tests/HZImageIOTests/Fixtures")
        try FileManager.default.createDirectory(atPath: "\(scratch.path)/photos", withIntermediateDirectories: true)
        for (name, fixture) in [("day.jpg", "xiaomi-mi-a3.jpg"), ("other.jpg", "canon-sx530hs.jpg")] {
            try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent(fixture).path, toPath: "\(scratch.path)/photos/\(name)")
        }
        try "name\tsplit\ttags\nday.jpg\teval\tfoliage\nother.jpg\ttrain\t\n".write(
            toFile: "\(scratch.path)/photos.tsv", atomically: true, encoding: .utf8)
    }

    func testSimulateEvalAndMapsMakeASetScoresAndPictures() throws {
        try hzsr([
            "simulate", "--set", "3", "--split", "eval", "--photos", "\(scratch.path)/photos",
            "--photo-list", "\(scratch.path)/photos.tsv", "--out", "\(scratch.path)/set",
        ])
        let manifest = try CaptureSet.readManifest("\(scratch.path)/set")
        XCTAssertEqual(manifest.captures, ["0000", "0001", "0002"])
        XCTAssertEqual(manifest.photos, ["day.jpg"], "only the evaluation side")
        for file in [
            "wide.jpg", "tele.jpg", "capture.json", "target_y.npy", "flow_forward.npy", "flow_backward.npy",
            "occlusion.npy", "defocus.npy", "tele_coverage.npy",
        ] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(scratch.path)/set/0001/\(file)"), file)
        }

        let table = try hzsr(["eval", "\(scratch.path)/set", "--out", "\(scratch.path)/eval"])
        XCTAssertTrue(table.contains("| wide-zoom |"), table)
        let report = try CaptureSet.decoder.decode(
            EvaluationReport.self,
            from: Data(contentsOf: URL(fileURLWithPath: "\(scratch.path)/eval/report.json")))
        XCTAssertEqual(report.captures.count, 3)
        let median = try XCTUnwrap(report.median["wide-zoom"])
        XCTAssertGreaterThan(median.psnrTele, 20, "the W digital zoom resembles the target")
        XCTAssertLessThan(median.psnrTele, 60, "but is not the target")
        XCTAssertEqual(median.tilesWorseThanWideZoom, 0)
        try assertPNG("\(scratch.path)/eval/chart.png")

        try hzsr(["maps", "--capture", "\(scratch.path)/set/0000", "-o", "\(scratch.path)/sheet.png"])
        try assertPNG("\(scratch.path)/sheet.png")
    }

    func testSimulateDropsPairsThatFuseReads() throws {
        try hzsr(["simulate", "\(scratch.path)/photos/day.jpg", "--spool", "\(scratch.path)/spool", "--count", "2", "--rate", "50"])
        XCTAssertEqual(scratch.files(in: "spool"), ["T/IMG_0001.jpg", "T/IMG_0002.jpg", "W/IMG_0001.jpg", "W/IMG_0002.jpg"])
        let output = try hzsr([
            "fuse", "\(scratch.path)/spool/W/IMG_0001.jpg", "\(scratch.path)/spool/T/IMG_0001.jpg",
            "-o", "\(scratch.path)/out.jpg",
        ])
        XCTAssertTrue(output.contains("250×186"), output)  // the photo's scene / r, even
        let fused = try decodeJPEG([UInt8](Data(contentsOf: URL(fileURLWithPath: "\(scratch.path)/out.jpg"))), maxPixels: 1_000_000)
        XCTAssertEqual(fused.image.size, Size(width: 250, height: 186))
        XCTAssertEqual(fused.exif.model, "simulated W", "W's EXIF is carried over")

        try "output: {zoom: [tele, 1.5]}\n".write(toFile: "\(scratch.path)/zooms.yaml", atomically: true, encoding: .utf8)
        let lines = try hzsr([
            "fuse", "\(scratch.path)/spool/W/IMG_0001.jpg", "\(scratch.path)/spool/T/IMG_0001.jpg",
            "-o", "\(scratch.path)/zooms.jpg", "--config", "\(scratch.path)/zooms.yaml",
        ]).split(separator: "\n")
        XCTAssertEqual(lines.count, 2, "one line per image: \(lines)")
        XCTAssertTrue(lines.first?.hasPrefix("\(scratch.path)/zooms.jpg: 250×186 at zoom 2.00,") ?? false, "\(lines)")
        XCTAssertTrue(lines.last?.hasPrefix("\(scratch.path)/zooms@1.5x.jpg: 250×186 at zoom 1.50,") ?? false, "\(lines)")
        let other = try decodeJPEG([UInt8](Data(contentsOf: URL(fileURLWithPath: "\(scratch.path)/zooms@1.5x.jpg"))), maxPixels: 1_000_000)
        XCTAssertEqual(other.image.size, Size(width: 250, height: 186))

        try "output: {maps: true}\n".write(toFile: "\(scratch.path)/maps.yaml", atomically: true, encoding: .utf8)
        try hzsr([
            "fuse", "\(scratch.path)/spool/W/IMG_0001.jpg", "\(scratch.path)/spool/T/IMG_0001.jpg",
            "-o", "\(scratch.path)/mapped.jpg", "--config", "\(scratch.path)/maps.yaml",
        ])
        let maps = scratch.files(in: "mapped.maps")
        XCTAssertTrue(maps.contains("flow.jpg") && maps.contains("blend.jpg"), "the maps beside the output: \(maps)")
    }

    func testBenchReportsEveryStageTheFloorAndTheRatio() throws {
        try hzsr([
            "bench", "--photo", "\(scratch.path)/photos/day.jpg", "--size", "320x240", "--runs", "2",
            "--json", "\(scratch.path)/bench.json",
        ])
        let report = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(scratch.path)/bench.json"))) as? [String: Any])
        let stages = try XCTUnwrap(report["stages_ms"] as? [String: [String: Double]])
        XCTAssertTrue(
            Set(stages.keys).isSuperset(of: [
                "decode", "source", "align", "zoom", "encode", "total", "align.coarse",
                "align.colour", "align.flow", "align.occlusion", "align.warp",
            ]),
            "\(stages.keys.sorted())")
        XCTAssertGreaterThan(try XCTUnwrap((report["floor_ms"] as? [String: Double])?["median"]), 0)
        XCTAssertGreaterThan(try XCTUnwrap(report["total_over_floor"] as? Double), 0)
        XCTAssertGreaterThan(try XCTUnwrap(report["bench_peak_resident_mb"] as? Double), 0)
        XCTAssertNotNil(report["minor_faults_per_capture"] as? Double)
        XCTAssertFalse(try XCTUnwrap(report["cpu_model"] as? String).isEmpty)
    }

    /// One warm-up pair and one timed pair through the real daemon, and no burst: the page
    /// faults of each are reported apart, and a burst of none has no rate, so that is left out
    /// rather than written as NaN, which JSON cannot hold.
    func testBenchOfOneDaemonPairWritesItsReport() throws {
        try hzsr([
            "bench", "--photo", "\(scratch.path)/photos/day.jpg", "--size", "320x240", "--runs", "1",
            "--daemon", DaemonHarness.binary, "--warm-up", "1", "--burst", "0", "--json", "\(scratch.path)/bench.json",
        ])
        let report = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(scratch.path)/bench.json"))) as? [String: Any])
        XCTAssertGreaterThan(try XCTUnwrap((report["spool_to_published_ms"] as? [String: Double])?["median"]), 0)
        XCTAssertGreaterThan(try XCTUnwrap(report["daemon_peak_resident_mb"] as? Double), 0)
        XCTAssertEqual((report["daemon_warm_up_minor_faults"] as? [Double])?.count, 1)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report["daemon_minor_faults_per_pair"] as? Double), 0)
        XCTAssertNil(report["burst_over_single"])
    }

    /// A mistyped folder, a photo too small to simulate from, a zoom no rig has: each tool says
    /// which and why, and fails, rather than reporting nothing done or trapping.
    func testToolsNameWhatTheyCannotUse() throws {
        try scratch.write(try TestFrames.jpeg(Size(width: 12, height: 9), time: Date()), to: "tiny.jpg")
        for (arguments, problem) in [
            (
                ["reprocess", "\(scratch.path)/no-archive", "--out", "\(scratch.path)/re"],
                "\(scratch.path)/no-archive: cannot list it: no such folder"
            ),
            (["calibrate", "\(scratch.path)/no-pairs"], "\(scratch.path)/no-pairs: no such folder"),
            (["calibrate", scratch.path, "--zoom-ratio", "0.5"], "--zoom-ratio must be above 1"),
            (
                ["simulate", "\(scratch.path)/tiny.jpg", "--spool", "\(scratch.path)/sim"],
                "\(scratch.path)/tiny.jpg: is 12×9: too small to make frames of at least 16×16"
            ),
        ] {
            let run = try runHzsr(arguments)
            XCTAssertNotEqual(run.status, 0, "\(arguments)")
            XCTAssertTrue(run.errors.contains(problem), "\(arguments): \(run.errors)")
        }
    }

    func testBenchRefusesOptionsItCannotRun() throws {
        for (options, problem) in [
            (["--runs", "0"], "--runs must be at least 1"), (["--warm-up=-1"], "--warm-up at least 0"),
            (["--ratio", "0"], "--ratio must be above 1"),
            (["--size", "15x15"], "--size must be WIDTHxHEIGHT, both even and at least 16"),
        ] {
            let run = try runHzsr(["bench"] + options)
            XCTAssertEqual(run.status, 64, "\(options): \(run.errors)")
            XCTAssertTrue(run.errors.contains(problem), "\(options): \(run.errors)")
        }
    }

    /// An exposure ladder from bright day (EV100 14) to night (−1): the gate skips exactly the
    /// captures below the configured EV100, on both sides of two thresholds, and every skipped
    /// capture publishes W's digital zoom, every fused one something else.
    func testTheGateFollowsItsThresholdDownAnExposureLadder() throws {
        try hzsr([
            "simulate", "--set", "8", "--split", "eval", "--exposure", "ladder", "--size", "256x192",
            "--photos", "\(scratch.path)/photos", "--photo-list", "\(scratch.path)/photos.tsv", "--out", "\(scratch.path)/ladder",
        ])
        for threshold in [5.5, 9.5] {
            try "fusion: {method: classical}\ngate: {min_ev100: \(threshold)}\n"
                .write(toFile: "\(scratch.path)/gate.yaml", atomically: true, encoding: .utf8)
            let table = try hzsr(["gate", "\(scratch.path)/ladder", "--config", "\(scratch.path)/gate.yaml"])
            let rows = table.split(separator: "\n").filter { $0.hasPrefix("| 000") }
                .map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
            XCTAssertEqual(rows.count, 8, table)
            for row in rows {
                let ev100 = try XCTUnwrap(Double(row[2]), "\(row)"), decision = row[7]
                XCTAssertEqual(decision == "skipped: low light", ev100 < threshold, "\(row) at min_ev100 \(threshold)")
            }
            XCTAssertTrue(rows.contains { $0[7] == "fused" }, table)
            XCTAssertTrue(table.contains("outputs that contradict their decision: 0"), table)
        }
    }

    /// `hzsr tune`: one row per value, alignment's table for a flow constant, the blending table
    /// (beside the unblended fusion) for a blend constant.
    func testTunePrintsTheSweepsTable() throws {
        try hzsr([
            "simulate", "--set", "2", "--split", "train", "--size", "256x192", "--photos", "\(scratch.path)/photos",
            "--photo-list", "\(scratch.path)/photos.tsv", "--out", "\(scratch.path)/train",
        ])
        let flow = try hzsr(["tune", "\(scratch.path)/train", "--param", "flow.stride", "--values", "3,4"])
        XCTAssertTrue(flow.hasPrefix("flow.stride on train, default 4"), flow)
        XCTAssertEqual(flow.split(separator: "\n").filter { $0.hasPrefix("| 3 |") || $0.hasPrefix("| 4 |") }.count, 2, flow)
        let blend = try hzsr([
            "tune", "\(scratch.path)/train", "--param", "blend.noise-floor", "--values", "0.3",
            "--fusion", "classical",
        ])
        XCTAssertTrue(blend.contains("| classical |"), blend)
        XCTAssertTrue(blend.contains("| classical+blend blend.noise-floor=0.3 |"), blend)
    }

    /// The frame that once crashed every decode (see Fixtures/decoder-crash/README.md): a clear
    /// error naming the broken file, and nothing written.
    func testFuseNamesTheFrameItCannotDecode() throws {
        let fixtures = DaemonHarness.repositoryRoot.appendingPathComponent("Tests/IntegrationTests/Fixtures/decoder-crash").path
        try hzsr(["fuse", "\(fixtures)/W-valid.jpg", "\(fixtures)/T.jpg", "-o", "\(scratch.path)/valid.jpg"])
        let run = try runHzsr(["fuse", "\(fixtures)/W.jpg", "\(fixtures)/T.jpg", "-o", "\(scratch.path)/out.jpg"])
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.errors, "Error: \(fixtures)/W.jpg: cannot decode: unsupported chroma sampling: Y 2×3, Cb 1×1, Cr 1×1\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(scratch.path)/out.jpg"))
    }

    /// Ten pairs of a rig whose T sits off centre, turned and scaled (each pair with its own
    /// parallax, near objects, noise and processing): calibrate finds that geometry; pairs of
    /// unrelated photos give it nothing to measure, and it says so.
    func testCalibrateRecoversTheRigAndRefusesUnrelatedPairs() throws {
        let truth = (offset: [7.0, -4.5], rotation: 0.6, scale: 1.012)
        let frame = Size(width: 320, height: 240)
        var wides: [[UInt8]] = [], teles: [[UInt8]] = []
        for index in 0..<10 {
            let photo = try decodeJPEG(
                try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(scratch.path)/photos/\(index % 2 == 0 ? "day" : "other").jpg"))),
                maxPixels: 1_000_000
            ).image.floats
            var parameters = RigParameters.draw(seed: UInt64(40 + index), frameSize: frame, zoomRatio: 2, exposure: .automatic(sceneEV100: 12))
            (parameters.teleOffset, parameters.teleRotation, parameters.teleScale) = (truth.offset, truth.rotation, truth.scale)
            (parameters.wideDistortion, parameters.teleDistortion) = (0, 0)
            let capture = RigSimulation(photo: photo, parameters: parameters).capture(at: Date(timeIntervalSince1970: Double(index)))
            wides.append(try encodeJPEG(capture.wide, quality: 92, exifPayload: capture.wideEXIF.app1Payload()))
            teles.append(try encodeJPEG(capture.tele, quality: 92, exifPayload: capture.teleEXIF.app1Payload()))
            try scratch.write(wides[index], to: "rig/W/IMG_\(index).jpg")
            try scratch.write(teles[index], to: "rig/T/IMG_\(index).jpg")
        }
        let block = try hzsr(["calibrate", "\(scratch.path)/rig"])
        func value(_ key: String) throws -> [Double] {
            let line = try XCTUnwrap(block.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(key):") }, block)
            return line.split(separator: ":")[1].split(whereSeparator: { "[], ".contains($0) }).compactMap { Double($0) }
        }
        // T's centre lies offset / r W pixels from W's; W is the frame's size.
        let offset = try value("center_offset")
        XCTAssertEqual(offset[0] * 320, truth.offset[0] / 2, accuracy: 2, block)
        XCTAssertEqual(offset[1] * 240, truth.offset[1] / 2, accuracy: 2, block)
        XCTAssertEqual(try value("zoom_ratio")[0], 2 * truth.scale, accuracy: 0.002 * 2 * truth.scale, block)
        XCTAssertEqual(try value("rotation")[0], truth.rotation, accuracy: 0.05, block)

        // W of one photo with T of the other: nothing overlaps.
        for index in 0..<10 {
            try scratch.write(wides[index], to: "unrelated/IMG_\(index)_W.jpg")
            try scratch.write(teles[(index + 1) % 10], to: "unrelated/IMG_\(index)_T.jpg")
        }
        let run = try runHzsr(["calibrate", "\(scratch.path)/unrelated"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertFalse(run.output.contains("rig:"), run.output)
        XCTAssertTrue(run.errors.contains("no pair's views overlap"), run.errors)
        XCTAssertTrue(run.errors.contains("\(scratch.path)/unrelated/IMG_3_W.jpg + \(scratch.path)/unrelated/IMG_3_T.jpg: "), run.errors)
    }

    /// A folder with one good rig pair, a W whose T is missing, a T that is not a JPEG, and two
    /// prepared captures, one with a target of another size than its T and one whose real.json
    /// has a zoom below 1: eval-real names each file and scores the good pair.
    func testEvalRealNamesTheFilesItCannotUseAndScoresTheRest() throws {
        let photo = try decodeJPEG(try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(scratch.path)/photos/day.jpg"))), maxPixels: 1_000_000)
        let frame = Size(width: 640, height: 480)
        let wide = DigitalZoom.render(photo.image, crop: photo.image.size.bounds, to: frame)
        // T sees W's centre at twice its scale, as the default rig (zoom_ratio 2, centred) says.
        let tele = DigitalZoom.render(wide, crop: Rect(x: 160, y: 120, width: 320, height: 240), to: frame)
        try scratch.write(try encodeJPEG(wide, quality: 92, exifPayload: nil), to: "real/W/good.jpg")
        try scratch.write(try encodeJPEG(tele, quality: 92, exifPayload: nil), to: "real/T/good.jpg")
        try scratch.write(try encodeJPEG(wide, quality: 92, exifPayload: nil), to: "real/W/lonely.jpg")
        try scratch.write(try encodeJPEG(wide, quality: 92, exifPayload: nil), to: "real/W/broken.jpg")
        try scratch.write(Array("not a JPEG".utf8), to: "real/T/broken.jpg")
        for name in ["mismatch", "zoomed-out"] {
            try scratch.write(try encodeJPEG(wide, quality: 92, exifPayload: nil), to: "real/\(name)/wide.jpg")
            try scratch.write(try encodeJPEG(tele, quality: 92, exifPayload: nil), to: "real/\(name)/tele.jpg")
        }
        try NumpyFile.write(Plane(width: 320, height: 240), to: "\(scratch.path)/real/mismatch/target_y.npy")
        try NumpyFile.write(tele.y, to: "\(scratch.path)/real/zoomed-out/target_y.npy")
        try scratch.write(Array(#"{"zoom_ratio": 0.5}"#.utf8), to: "real/zoomed-out/real.json")
        let run = try runHzsr(["eval-real", "\(scratch.path)/real", "--out", "\(scratch.path)/scores"])
        XCTAssertEqual(run.status, 0, run.errors)
        XCTAssertTrue(
            run.errors.contains("skipped \(scratch.path)/real/mismatch/target_y.npy: is 320×240, but tele.jpg is 640×480"), run.errors)
        XCTAssertTrue(run.errors.contains("skipped \(scratch.path)/real/zoomed-out/real.json: needs zoom_ratio, a number above 1"), run.errors)
        XCTAssertTrue(run.errors.contains("skipped \(scratch.path)/real/W/lonely.jpg: no T frame of the same name"), run.errors)
        XCTAssertTrue(run.errors.contains("skipped \(scratch.path)/real/T/broken.jpg: "), run.errors)
        let rows = run.output.split(separator: "\n").filter { $0.hasPrefix("| good |") || $0.hasPrefix("| lonely") || $0.hasPrefix("| broken") }
        XCTAssertEqual(rows.count, 1, run.output)
        XCTAssertTrue(rows.first?.hasPrefix("| good | fused |") ?? false, run.output)
        try assertPNG("\(scratch.path)/scores/good.png")
    }

    /// A state with frames waiting, pairs in work, pairs published today and before, and files
    /// quarantined and orphaned: `hzsr status --json` counts each, lists the set-aside files with
    /// their reasons and the newest pairs first, and names the process that holds the folders.
    func testStatusCountsEachStateFromTheFolders() throws {
        let state = "\(scratch.path)/state"
        try "".write(toFile: "\(scratch.path)/hzsrd.yaml", atomically: true, encoding: .utf8)
        let files: [String: String] = [
            "spool/W/a.jpg": "", "spool/W/b.JPG": "", "spool/T/c.jpg": "", "spool/W/.d.jpg": "", "spool/W/e.jpg.part": "",
            "spool/W/notes.txt": "", "spool/x_T.jpg": "",
            "work/20260921-141320.250_a/manifest.json": "{}", "work/20260921-141321.250_b/manifest.json": "{}",
            "work/.claim-20260921-141322.250_c/manifest.json": "{}",
            "quarantine/W/bad.jpg": "", "quarantine/W/bad.jpg.reason": "not a JPEG: starts 6e 6f 74 20\n",
            "quarantine/20260921-141323.250_d/manifest.json": "{}",
            "quarantine/20260921-141323.250_d.reason": "W/d.jpg: the daemon died 3 times\n",
            "orphans/T/lonely.jpg": "", "orphans/T/lonely.jpg.reason": "no W frame within 0.05 s\n",
            // Moved, and then the daemon was killed before (or while) writing its reason.
            "quarantine/T/cut.jpg": "", "quarantine/T/.cut.jpg.reason.tmp": "",
        ]
        for (path, text) in files { try scratch.write(Array(text.utf8), to: "state/\(path)") }
        let today = TimeFormat.day(Date(), in: TimeZone(identifier: "UTC")!)
        let sidecars = [
            ("\(today)/p1", "fused", "\(today)T00:00:01.000Z"), ("\(today)/p2", "skipped: low light", "\(today)T00:00:02.000Z"),
            ("\(today)/p3", "skipped: low light", "\(today)T00:00:03.000Z"), ("2026-01-01/p0", "fused", "2026-01-01T10:00:00.000Z"),
            // From a camera whose clock is ahead: a day folder still to come.
            ("2099-01-01/p4", "fused", "\(today)T00:00:04.000Z"),
        ]
        for (path, decision, time) in sidecars {
            let json = TestSidecar.json(pair: (path as NSString).lastPathComponent, decision: decision, latencyMs: 250, publishedAt: time)
            try scratch.write(Array(json.utf8), to: "state/out/\(path).json")
        }
        var lock: SpoolLock? = try SpoolLock(work: "\(state)/work")

        let output = try hzsr(["status", "--json", "--config", "\(scratch.path)/hzsrd.yaml", "--directory", state])
        let status = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], output)
        XCTAssertEqual(status["daemon_pid"] as? Int, Int(getpid()))
        XCTAssertEqual(status["waiting"] as? [String: Int], ["W": 2, "T": 2])
        XCTAssertEqual(status["in_work"] as? Int, 2)
        XCTAssertEqual(status["day"] as? String, today)
        XCTAssertEqual(status["published_today"] as? [String: Int], ["fused": 1, "skipped: low light": 2])
        let quarantined = try XCTUnwrap(status["quarantined"] as? [[String: String]])
        XCTAssertEqual(Set(quarantined.map { $0["file"]! }), ["W/bad.jpg", "20260921-141323.250_d", "T/cut.jpg"])
        XCTAssertTrue(quarantined.contains { $0["reason"] == "not a JPEG: starts 6e 6f 74 20" }, "\(quarantined)")
        XCTAssertTrue(quarantined.contains { $0["file"] == "T/cut.jpg" && $0["reason"]!.hasPrefix("no reason recorded") }, "\(quarantined)")
        XCTAssertEqual(status["orphaned"] as? [[String: String]], [["file": "T/lonely.jpg", "reason": "no W frame within 0.05 s"]])
        let recent = try XCTUnwrap(status["recent"] as? [[String: Any]])
        XCTAssertEqual(recent.map { $0["pair"] as? String }, ["p4", "p3", "p2", "p1", "p0"], "newest first, each once, other days after today's")
        XCTAssertEqual(recent.first?["latency_ms"] as? Double, 250)

        XCTAssertNotNil(lock)
        lock = nil
        let text = try hzsr(["status", "--config", "\(scratch.path)/hzsrd.yaml", "--directory", state])
        XCTAssertTrue(text.hasPrefix("spool \(state)/spool: no hzsrd is using it\n"), text)
        XCTAssertTrue(text.contains("published in today's folder, \(today): 3, 2 skipped: low light, 1 fused\n"), text)
    }

    /// An archive of six pairs and one with a broken T: one process makes the six and names the
    /// broken file; three shards as separate processes make each pair once between them, with
    /// the same bytes; a rerun skips what is done.
    func testReprocessInShardsMakesEachPairOnceAndTheSameImages() throws {
        try TestArchive.write(in: scratch, count: 7, brokenTele: 6)
        let single = try runHzsr(["reprocess", "archive", "--out", "single"])
        XCTAssertEqual(single.status, 1, single.errors)
        XCTAssertTrue(single.errors.contains("archive/2026-09-21/20260921-141326.250_p6/T/p6.jpg: "), single.errors)
        XCTAssertTrue(single.output.hasPrefix("7 pairs: 6 made ("), single.output)
        XCTAssertTrue(single.output.hasSuffix(", 0 already done, 1 failed\n"), single.output)

        let shards = try (0..<3).map { index in
            let process = Process(), output = Pipe()
            process.executableURL = URL(fileURLWithPath: DaemonHarness.program("hzsr"))
            process.arguments = ["reprocess", "archive", "--out", "sharded", "--shard", "\(index)/3"]
            process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
            (process.standardOutput, process.standardError) = (output, FileHandle.nullDevice)
            try process.run()
            return (process, output)
        }
        var made = 0
        for (process, output) in shards {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            made += Int(try XCTUnwrap(text.firstMatch(of: /\): (\d+) made/), text).1) ?? -100
        }
        XCTAssertEqual(made, 6, "each pair made by one shard")
        assertSameImages(in: scratch, "single", "sharded", count: 6)
        let record = try Publisher.readRecord(at: "\(scratch.path)/single/2026-09-21/20260921-141320.250_p0.json")
        XCTAssertEqual(record.madeWith?.config, "defaults")
        XCTAssertEqual(record.madeWith?.model.count, 16, "the network's digest")
        XCTAssertEqual(record.inputs.first?.archivedAt, "\(scratch.path)/archive/2026-09-21/20260921-141320.250_p0/W/p0.jpg")

        let again = try runHzsr(["reprocess", "archive", "--out", "single"])
        XCTAssertEqual(again.output, "7 pairs: 0 made, 6 already done, 1 failed\n")
    }

    @discardableResult
    private func hzsr(_ arguments: [String]) throws -> String {
        let run = try runHzsr(arguments)
        XCTAssertEqual(run.status, 0, "hzsr \(arguments.joined(separator: " ")): \(run.errors)")
        return run.output
    }

    private func runHzsr(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonHarness.program("hzsr"))
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text, problems)
    }

    private func assertPNG(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)).prefix(8))
        XCTAssertEqual(bytes, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], path, file: file, line: line)
    }
}
