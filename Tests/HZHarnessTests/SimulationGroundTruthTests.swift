import Foundation
import HZImageIO
import HZTestSupport
import HybridZoom
import XCTest

@testable import HZHarness

final class SimulationGroundTruthTests: XCTestCase {
    /// A textured scene, softened so that bilinear interpolation (the error left after warping)
    /// stays well below the noise being measured.
    private let photo: YCbCrImage = {
        let scene = TestFrames.scene(Size(width: 640, height: 480), seed: 1)
        return YCbCrImage(y: gaussianBlur(scene.y, sigma: 2), cb: scene.cb, cr: scene.cr)
    }()
    private let moment = Date(timeIntervalSince1970: 1_767_225_600.25)

    private func parameters(seed: UInt64 = 7, iso: Double = 12) -> RigParameters {
        var parameters = RigParameters.draw(
            seed: seed, frameSize: Size(width: 240, height: 180), zoomRatio: 2,
            exposure: .automatic(sceneEV100: iso), ranges: .classic)
        (parameters.defocus, parameters.occluders) = (false, 0)
        (parameters.teleGain, parameters.teleBias, parameters.teleChromaShift) = (1, 0, [0, 0])
        parameters.teleOffset = [6.5, -4.25]
        parameters.parallax = 5
        return parameters
    }

    /// T read through the true forward flow lands on the target's grid: what is left is T's
    /// noise and interpolation, far less than without the flow.
    func testWarpingTByTheTrueFlowReproducesTheTarget() {
        let capture = RigSimulation(photo: photo, parameters: parameters()).capture(at: moment)
        let flow = capture.forwardFlow
        let aligned = warp(capture.tele.y, dx: flow.u, dy: flow.v, interpolation: .bilinear)
        let inside = interior(capture.teleCoverage, margin: 3)
        let alignedError = rms(aligned, capture.target, inside)
        let unalignedError = rms(capture.tele.y, capture.target, inside)
        let noise = Double(SensorNoise(iso: capture.parameters.exposure.teleISO).sigma(at: 0.5))
        XCTAssertLessThan(alignedError, 1.5 * noise + 0.002, "residual \(alignedError), T's noise \(noise)")
        XCTAssertGreaterThan(unalignedError, 5 * alignedError, "the flow must matter: \(unalignedError) vs \(alignedError)")
        // The backward flow takes the target to T the same way.
        let back = warp(capture.target, dx: capture.backwardFlow.u, dy: capture.backwardFlow.v, interpolation: .bilinear)
        XCTAssertLessThan(rms(back, capture.tele.y, interior(Plane(width: 240, height: 180, value: 1), margin: 12)), 0.012)
    }

    /// T turned and scaled, both lenses distorted, the baseline slanted: the flow follows.
    func testTheTrueFlowFollowsTurnScaleAndDistortion() {
        var turned = parameters()
        (turned.teleRotation, turned.teleScale, turned.parallaxDirection) = (0.8, 1.015, [0.6, -0.8])
        (turned.wideDistortion, turned.teleDistortion) = (-0.05, 0.012)
        let capture = RigSimulation(photo: photo, parameters: turned).capture(at: moment)
        let flow = capture.forwardFlow
        let aligned = warp(capture.tele.y, dx: flow.u, dy: flow.v, interpolation: .bilinear)
        let inside = interior(capture.teleCoverage, margin: 3)
        let noise = Double(SensorNoise(iso: capture.parameters.exposure.teleISO).sigma(at: 0.5))
        XCTAssertLessThan(rms(aligned, capture.target, inside), 1.5 * noise + 0.002)
        // At the centre (the focus depth, where W's lens does not bend either) the turn moves
        // nothing: the offset, scaled.
        XCTAssertEqual(Double(flow.u[120, 90]), -6.5 * 1.015, accuracy: 0.2)
        XCTAssertEqual(Double(flow.v[120, 90]), 4.25 * 1.015, accuracy: 0.2)
    }

    /// Near objects and movers: where T shows what `I_src` shows, the true flow finds it; where
    /// it shows something else, the occlusion truth says so.
    func testNearObjectsAndMoversHaveTheirOwnFlowAndHideTheBackground() {
        var busy = parameters()
        (busy.nearObjects, busy.movers, busy.timeGap, busy.parallax) = (2, 2, 0.1, 6)
        let capture = RigSimulation(photo: photo, parameters: busy).capture(at: moment)
        let flow = capture.forwardFlow
        let aligned = warp(capture.tele.y, dx: flow.u, dy: flow.v, interpolation: .bilinear)
        var visible = interior(capture.teleCoverage, margin: 3), hidden = visible
        for y in 0..<visible.height {
            for x in 0..<visible.width {
                // Two pixels from any hidden pixel or flow step: soft edges mix both sides.
                let near = (max(y - 2, 0)...min(y + 2, visible.height - 1)).contains { j in
                    (max(x - 2, 0)...min(x + 2, visible.width - 1)).contains { i in
                        capture.occlusion[i, j] == 1 || abs(flow.u[i, j] - flow.u[x, y]) + abs(flow.v[i, j] - flow.v[x, y]) > 0.5
                    }
                }
                if near { visible[x, y] = 0 }
                if capture.occlusion[x, y] == 0 { hidden[x, y] = 0 }
            }
        }
        let noise = Double(SensorNoise(iso: capture.parameters.exposure.teleISO).sigma(at: 0.5))
        XCTAssertLessThan(rms(aligned, capture.target, visible), 1.5 * noise + 0.002)
        XCTAssertGreaterThan(hidden.pixels.reduce(0, +), 100, "the objects hide some of the background")
        XCTAssertGreaterThan(rms(aligned, capture.target, hidden), 0.03)
    }

    func testTheOffsetShowsInTheFlow() {
        let capture = RigSimulation(photo: photo, parameters: parameters()).capture(at: moment)
        let centre = (x: 120, y: 90)
        // At the focus depth (the centre) parallax is zero, so the flow is minus the offset.
        XCTAssertEqual(capture.forwardFlow.u[centre.x, centre.y], -6.5, accuracy: 0.05)
        XCTAssertEqual(capture.forwardFlow.v[centre.x, centre.y], 4.25, accuracy: 0.05)
        XCTAssertEqual(capture.backwardFlow.u[centre.x, centre.y], 6.5, accuracy: 0.05)
    }

    func testOccludersAndDefocusAreInTheMasks() {
        var withBoth = parameters()
        (withBoth.occluders, withBoth.defocus, withBoth.parallax) = (2, true, 12)
        let capture = RigSimulation(photo: photo, parameters: withBoth).capture(at: moment)
        let occluded = capture.occlusion.pixels.reduce(0, +), defocused = capture.defocus.pixels.reduce(0, +)
        XCTAssertGreaterThan(occluded, 50)
        XCTAssertGreaterThan(defocused, 50)
        // Where T is occluded it does not show the target's scene point.
        let flow = capture.forwardFlow
        let aligned = warp(capture.tele.y, dx: flow.u, dy: flow.v, interpolation: .bilinear)
        let hidden = interior(capture.occlusion, margin: 3)
        XCTAssertGreaterThan(rms(aligned, capture.target, hidden), 0.03)
    }

    func testSameSeedSameBytesOtherSeedOtherCapture() throws {
        func jpegs(_ seed: UInt64) throws -> [UInt8] {
            let capture = RigSimulation(photo: photo, parameters: parameters(seed: seed)).capture(at: moment)
            return try encodeJPEG(capture.wide, quality: 92, exifPayload: capture.wideEXIF.app1Payload())
                + encodeJPEG(capture.tele, quality: 92, exifPayload: capture.teleEXIF.app1Payload())
        }
        XCTAssertEqual(try jpegs(3), try jpegs(3))
        XCTAssertNotEqual(try jpegs(3), try jpegs(4))
    }

    func testNoiseGrowsWithISO() {
        func teleNoise(_ ev: Double) -> Double {
            let capture = RigSimulation(photo: photo, parameters: parameters(iso: ev)).capture(at: moment)
            let flow = capture.forwardFlow
            let aligned = warp(capture.tele.y, dx: flow.u, dy: flow.v, interpolation: .bilinear)
            return rms(aligned, capture.target, interior(capture.teleCoverage, margin: 3))
        }
        XCTAssertGreaterThan(teleNoise(1), 4 * teleNoise(13))
    }

    func testExposureLadderGoesFromDayToNight() {
        let ladder = (0..<8).map { Exposure.ladder($0, of: 8) }
        XCTAssertEqual(ladder.first!.wideEV100, 14, accuracy: 0.01)
        XCTAssertEqual(ladder.first!.wideISO, 100)
        XCTAssertEqual(ladder.last!.wideISO, 6400)
        XCTAssertEqual(ladder.last!.teleISO, 6400)
        XCTAssertLessThan(ladder.last!.brightness, 1)
        XCTAssertEqual(zip(ladder, ladder.dropFirst()).filter { $0.wideEV100 <= $1.wideEV100 }.count, 0, "EV falls at every step")
    }

    func testCaptureSetRoundTrip() throws {
        let scratch = try ScratchFolder()
        let capture = RigSimulation(photo: photo, parameters: parameters()).capture(at: moment)
        try CaptureSet.write(capture, photo: "scene.jpg", to: "\(scratch.path)/0000")
        XCTAssertEqual(try NumpyFile.readPlane(at: "\(scratch.path)/0000/target_y.npy"), capture.target)
        XCTAssertEqual(try NumpyFile.readChannels(at: "\(scratch.path)/0000/flow_forward.npy"), [capture.forwardFlow.u, capture.forwardFlow.v])
        XCTAssertEqual(try NumpyFile.readMask(at: "\(scratch.path)/0000/tele_coverage.npy"), capture.teleCoverage)
        XCTAssertEqual(try CaptureSet.readInfo("\(scratch.path)/0000").parameters, capture.parameters)
        let wide = try decodeJPEG([UInt8](Data(contentsOf: URL(fileURLWithPath: "\(scratch.path)/0000/wide.jpg"))), maxPixels: 1_000_000)
        XCTAssertEqual(wide.exif.iso, capture.parameters.exposure.wideISO)
        XCTAssertEqual(wide.exif.captureTime(defaultTimeZone: .gmt)!.timeIntervalSince1970, moment.timeIntervalSince1970, accuracy: 0.001)
    }

    private func interior(_ mask: Plane, margin: Int) -> Plane {
        var result = mask
        for y in 0..<mask.height {
            for x in 0..<mask.width where x < margin || y < margin || x >= mask.width - margin || y >= mask.height - margin {
                result[x, y] = 0
            }
        }
        return result
    }

    private func rms(_ a: Plane, _ b: Plane, _ mask: Plane) -> Double {
        var sum = 0.0, count = 0.0
        for i in a.pixels.indices where mask.pixels[i] > 0.5 {
            sum += Double((a.pixels[i] - b.pixels[i]) * (a.pixels[i] - b.pixels[i]))
            count += 1
        }
        return (sum / max(count, 1)).squareRoot()
    }
}
