import Foundation
import HybridZoom

/// Objects both cameras see at a depth of their own: near objects (a post, a window frame, a
/// hand) far in front of the background, so that each camera sees a different part of the
/// background beside them, and T, focused on the background, sees them blurred; and movers,
/// which have moved between W's and T's exposures. Each is a silhouette on the scene as W sees
/// it, filled with texture from elsewhere in the scene.
struct SceneObject {
    let silhouette: Silhouette
    /// Where the texture comes from: the scene point plus this.
    let textureOffset: SIMD2<Double>
    let shade: Float
    /// T sees the object's point z where it would see the background's z − `displacement`: its
    /// parallax from the focus depth, or minus its motion.
    let displacement: SIMD2<Double>
    /// T's blur σ on the object, in pixels.
    let blur: Float

    /// The near objects and movers of a capture, farthest first (the order to paint them in).
    static func draw(_ parameters: RigParameters, random: SeededRandom) -> [SceneObject] {
        let frame = SIMD2(Double(parameters.frameWidth), Double(parameters.frameHeight))
        let scale = frame.x / 4032
        var objects: [SceneObject] = []
        for index in 0..<parameters.movers {
            var random = random.derived(index)
            let silhouette = Silhouette.mover(frame: frame, random: &random)
            // Crossing the frame's width in 2 to 10 seconds.
            let speed = frame.x / (2 + 8 * Double(random.unit())), angle = 2 * Double.pi * Double(random.unit())
            let motion = speed * parameters.timeGap * SIMD2(cos(angle), sin(angle))
            objects.append(
                SceneObject(
                    silhouette: silhouette, textureOffset: textureOffset(frame, &random), shade: 1,
                    displacement: -motion, blur: 0))
        }
        for index in 0..<parameters.nearObjects {
            var random = random.derived(100 + index)
            let silhouette = Silhouette.near(frame: frame, random: &random)
            // Nearer than all of the background: 1.5 to 3 times its largest disparity, at least 8 px at 12 MP.
            let disparity = (1.5 + 1.5 * Double(random.unit())) * max(parameters.parallax, 8 * scale)
            let direction = SIMD2(parameters.parallaxDirection[0], parameters.parallaxDirection[1])
            objects.append(
                SceneObject(
                    silhouette: silhouette, textureOffset: textureOffset(frame, &random), shade: 0.4 + 0.4 * random.unit(),
                    displacement: disparity * direction,
                    blur: parameters.defocus ? DepthField.blur(disparity: Float(disparity * (direction * direction).sum().squareRoot())) : 0))
        }
        return objects
    }

    private static func textureOffset(_ frame: SIMD2<Double>, _ random: inout SeededRandom) -> SIMD2<Double> {
        SIMD2(Double(random.unit()) - 0.5, Double(random.unit()) - 0.5) * frame * 0.8
    }
}

/// A shape made of ellipses and bars, with a one-pixel soft edge: its coverage in [0, 1].
struct Silhouette {
    struct Part {
        enum Kind { case ellipse, bar }
        let kind: Kind
        let centre: SIMD2<Double>
        /// Half-length along `angle` and half-width across it.
        let halfAxes: SIMD2<Double>
        let angle: Double
    }

    let parts: [Part]

    func coverage(_ z: SIMD2<Double>) -> Float {
        var cover = 0.0
        for part in parts {
            let d = z - part.centre, (c, s) = (cos(part.angle), sin(part.angle))
            let local = SIMD2(d.x * c + d.y * s, -d.x * s + d.y * c)
            // Distance inside the edge, in pixels (roughly, for the ellipse).
            let inside: Double
            switch part.kind {
            case .bar: inside = min(part.halfAxes.x - abs(local.x), part.halfAxes.y - abs(local.y))
            case .ellipse:
                let radius = ((local / part.halfAxes) * (local / part.halfAxes)).sum().squareRoot()
                inside = (1 - radius) * part.halfAxes.min()
            }
            cover = max(cover, min(max(inside + 0.5, 0), 1))
        }
        return Float(cover)
    }

    /// The box outside which the coverage is 0.
    var bounds: (lower: SIMD2<Double>, upper: SIMD2<Double>) {
        let reach = parts.map { $0.halfAxes.x + $0.halfAxes.y + 1 }
        return (
            zip(parts, reach).map { $0.centre - $1 }.reduce(SIMD2(repeating: .infinity)) { pointwiseMin($0, $1) },
            zip(parts, reach).map { $0.centre + $1 }.reduce(SIMD2(repeating: -.infinity)) { pointwiseMax($0, $1) }
        )
    }

    /// A post (a bar across the whole frame, near upright), a window frame (bars around a pane and
    /// across it) or a hand (an ellipse reaching in from an edge).
    static func near(frame: SIMD2<Double>, random: inout SeededRandom) -> Silhouette {
        func unit() -> Double { Double(random.unit()) }
        let thickness = frame.x * (0.015 + 0.025 * unit())
        switch unit() {
        case ..<0.4:
            let centre = SIMD2(frame.x * (0.1 + 0.8 * unit()), frame.y / 2)
            return Silhouette(parts: [Part(kind: .bar, centre: centre, halfAxes: SIMD2(thickness, frame.y), angle: (unit() - 0.5) * 0.3)])
        case ..<0.75:
            let corner = frame * SIMD2(0.1 + 0.3 * unit(), 0.1 + 0.3 * unit()), size = frame * SIMD2(0.4 + 0.5 * unit(), 0.4 + 0.5 * unit())
            let middle = corner + size / 2
            return Silhouette(parts: [
                Part(kind: .bar, centre: SIMD2(corner.x, middle.y), halfAxes: SIMD2(thickness, size.y / 2 + thickness), angle: 0),
                Part(kind: .bar, centre: SIMD2(corner.x + size.x, middle.y), halfAxes: SIMD2(thickness, size.y / 2 + thickness), angle: 0),
                Part(kind: .bar, centre: SIMD2(middle.x, corner.y), halfAxes: SIMD2(size.x / 2 + thickness, thickness), angle: 0),
                Part(kind: .bar, centre: SIMD2(middle.x, corner.y + size.y), halfAxes: SIMD2(size.x / 2 + thickness, thickness), angle: 0),
                Part(kind: .bar, centre: middle, halfAxes: SIMD2(thickness / 2, size.y / 2), angle: 0),
            ])
        default:
            let edge = unit() < 0.5 ? 0.0 : frame.x
            let centre = SIMD2(edge, frame.y * (0.3 + 0.7 * unit()))
            return Silhouette(parts: [
                Part(
                    kind: .ellipse, centre: centre, halfAxes: SIMD2(frame.x * (0.12 + 0.1 * unit()), frame.x * (0.05 + 0.04 * unit())),
                    angle: (unit() - 0.5) * 1.2)
            ])
        }
    }

    /// Something that moves on its own: an upright ellipse (a person) or a long low box (a car).
    static func mover(frame: SIMD2<Double>, random: inout SeededRandom) -> Silhouette {
        func unit() -> Double { Double(random.unit()) }
        let centre = frame * SIMD2(0.15 + 0.7 * unit(), 0.15 + 0.7 * unit())
        let part =
            unit() < 0.5
            ? Part(
                kind: .ellipse, centre: centre, halfAxes: SIMD2(frame.x * (0.06 + 0.06 * unit()), frame.x * (0.02 + 0.02 * unit())), angle: .pi / 2)
            : Part(kind: .bar, centre: centre, halfAxes: SIMD2(frame.x * (0.08 + 0.08 * unit()), frame.x * (0.03 + 0.02 * unit())), angle: 0)
        return Silhouette(parts: [part])
    }
}
