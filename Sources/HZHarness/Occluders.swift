import Foundation
import HybridZoom

/// Objects close to T that W does not see (a branch, a pole, a passer-by): slanted bars and
/// ellipses filled with darkened texture from elsewhere in the scene, painted into T only.
struct Occluders {
    let count: Int
    let frame: Size
    let random: SeededRandom

    /// Paints the occluders into `tele` (full-resolution chroma) and returns their mask on T's grid.
    func paint(on tele: inout YCbCrImage, from scene: YCbCrImage) -> Plane {
        var mask = Plane(width: frame.width, height: frame.height)
        for index in 0..<count {
            var random = random.derived(index)
            let shape = Shape(frame: frame, random: &random)
            let source = (
                x: Int(random.unit() * Float(scene.size.width - frame.width)),
                y: Int(random.unit() * Float(scene.size.height - frame.height))
            )
            for y in 0..<frame.height {
                for x in 0..<frame.width {
                    let cover = shape.coverage(x, y)
                    guard cover > 0 else { continue }
                    let i = y * frame.width + x, s = (source.y + y) * scene.size.width + source.x + x
                    tele.y.pixels[i] += cover * (0.6 * scene.y.pixels[s] - tele.y.pixels[i])
                    tele.cb.pixels[i] +=
                        cover
                        * (scene.cb[Int(Double(source.x + x) * scene.chromaScale.x), Int(Double(source.y + y) * scene.chromaScale.y)]
                            - tele.cb.pixels[i])
                    tele.cr.pixels[i] +=
                        cover
                        * (scene.cr[Int(Double(source.x + x) * scene.chromaScale.x), Int(Double(source.y + y) * scene.chromaScale.y)]
                            - tele.cr.pixels[i])
                    mask.pixels[i] = max(mask.pixels[i], cover)
                }
            }
        }
        return mask
    }

    /// An ellipse, long and thin (a bar) or round, with a one-pixel soft edge.
    private struct Shape {
        let centre: (x: Float, y: Float)
        let axes: (Float, Float)
        let angle: Float

        init(frame: Size, random: inout SeededRandom) {
            let width = Float(frame.width)
            centre = (random.unit() * width, random.unit() * Float(frame.height))
            let isBar = random.unit() < 0.5
            axes =
                isBar
                ? (width * (0.3 + 0.3 * random.unit()), width * (0.015 + 0.02 * random.unit()))
                : (width * (0.06 + 0.08 * random.unit()), width * (0.05 + 0.06 * random.unit()))
            angle = random.unit() * .pi
        }

        func coverage(_ x: Int, _ y: Int) -> Float {
            let dx = Float(x) - centre.x, dy = Float(y) - centre.y
            let along = dx * cos(angle) + dy * sin(angle), across = -dx * sin(angle) + dy * cos(angle)
            let radius = ((along / axes.0) * (along / axes.0) + (across / axes.1) * (across / axes.1)).squareRoot()
            // Distance past the edge, in pixels, roughly: soft over one pixel.
            let edge = (1 - radius) * min(axes.0, axes.1)
            return (edge + 0.5).clamped(to: 0...1)
        }
    }
}
