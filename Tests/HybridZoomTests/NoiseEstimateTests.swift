import XCTest

@testable import HybridZoom

final class NoiseEstimateTests: XCTestCase {
    func testPureNoiseGivesItsSigma() {
        for sigma: Float in [0.003, 0.02] {
            let plane = SyntheticPlanes.noisy(Plane(width: 256, height: 192, value: 0.5), sigma: sigma, seed: 1)
            XCTAssertEqual(NoiseEstimate.sigma(of: plane), sigma, accuracy: 0.15 * sigma)
        }
    }

    /// A noise-free photo-like frame: smooth shading, smooth texture and hard-edged objects.
    private func cleanPhoto(_ size: Size) -> Plane {
        let texture = SyntheticPlanes.texture(size, seed: 2, correlation: 2, contrast: 0.08)
        var photo = Plane(width: size.width, height: size.height)
        for y in 0..<size.height {
            for x in 0..<size.width {
                let shading = 0.3 + 0.4 * Float(x) / Float(size.width) + 0.1 * Float(y) / Float(size.height)
                let object: Float = (x - 60) * (x - 60) + (y - 50) * (y - 50) < 900 ? 0.2 : 0
                photo[x, y] = (x < size.width / 2 ? shading : texture[x, y]) + object
            }
        }
        return photo
    }

    func testTextureIsNotNoise() {
        let photo = cleanPhoto(Size(width: 256, height: 192))
        XCTAssertLessThan(NoiseEstimate.sigma(of: photo), 0.0005)
        let sigma: Float = 0.01
        XCTAssertEqual(NoiseEstimate.sigma(of: SyntheticPlanes.noisy(photo, sigma: sigma, seed: 3)), sigma, accuracy: 0.15 * sigma)
    }

    /// Clipped areas have no noise left; they must not pull the estimate down.
    func testClippedAreasAreLeftOut() {
        var plane = SyntheticPlanes.noisy(Plane(width: 256, height: 192, value: 0.5), sigma: 0.01, seed: 4)
        for y in 0..<192 { for x in 0..<160 { plane[x, y] = 1 } }
        XCTAssertEqual(NoiseEstimate.sigma(of: plane), 0.01, accuracy: 0.0015)
    }

    func testMeanLumaAndTinyPlanes() {
        let measured = FrameMeasurement(luma: Plane(width: 64, height: 48, value: 0.25), exposure: ExposureSettings())
        XCTAssertEqual(measured.meanLuma, 0.25, accuracy: 1e-6)
        XCTAssertEqual(measured.noise, 0, accuracy: 1e-4)
        XCTAssertEqual(FrameMeasurement(luma: Plane(width: 10, height: 10, value: 0.4), exposure: ExposureSettings()).meanLuma, 0.4, accuracy: 1e-6)
    }
}
