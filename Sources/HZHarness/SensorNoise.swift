import Foundation
import HybridZoom

/// Signal-dependent sensor noise at a given ISO: variance a·I + c, both growing with gain, so
/// shadows are dominated by read noise and highlights by shot noise. At ISO 100 a mid-grey pixel
/// varies by about half a code value; at ISO 6400 by about 16.
struct SensorNoise {
    let iso: Int

    var shotNoise: Float { 4e-6 * gain }
    var readNoise: Float { 1e-3 * gain }
    private var gain: Float { Float(iso) / 100 }

    func sigma(at intensity: Float) -> Float { (shotNoise * max(intensity, 0) + readNoise * readNoise).squareRoot() }

    func apply(to image: YCbCrImage, random: SeededRandom) -> YCbCrImage {
        let chromaSigma = 0.5 * sigma(at: 0.5)
        return YCbCrImage(
            y: noisy(image.y, random.derived(0)) { sigma(at: $0) },
            cb: noisy(image.cb, random.derived(1)) { _ in chromaSigma },
            cr: noisy(image.cr, random.derived(2)) { _ in chromaSigma })
    }

    /// Each row draws from its own generator, so rows can run in parallel and stay deterministic.
    private func noisy(_ plane: Plane, _ random: SeededRandom, _ sigma: (Float) -> Float) -> Plane {
        var result = plane
        for y in 0..<plane.height {
            var rowRandom = random.derived(y)
            for x in 0..<plane.width {
                let i = y * plane.width + x
                result.pixels[i] += sigma(plane.pixels[i]) * rowRandom.gaussian()
            }
        }
        return result
    }
}
