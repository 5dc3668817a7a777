import Foundation
import HybridZoom

/// Where each camera's pixels look in the scene. Points are continuous coordinates (pixel (i, j)
/// covers [i, i+1) × [j, j+1)): T's on its frame, `I_src`'s on its grid (T's calibrated field of
/// view at T's size), scene points relative to the corner of that field of view, in scene pixels,
/// which the scene has at T's scale.
///
/// `I_src`'s grid shows the scene through W's lens: distorted about W's centre. T's pixel shows,
/// through T's lens, a point that T's residual similarity (turn, scale, offset) takes to the
/// focus depth's scene point; nearer and farther things add their parallax to that.
struct RigGeometry {
    let centre: SIMD2<Double>
    let zoomRatio: Double
    /// T's undistorted point → the scene point it shows at the focus depth, and back.
    let teleToScene: Homography
    let sceneToTele: Homography
    let wideLens: RadialDistortion
    let teleLens: RadialDistortion

    init(_ parameters: RigParameters) {
        let frame = parameters.frameSize
        centre = SIMD2(Double(frame.width), Double(frame.height)) / 2
        zoomRatio = parameters.zoomRatio
        // The alignment measures I_src → T; the scene follows I_src's grid, so T → scene is its inverse.
        let sourceToTele = Homography.similarity(
            scale: parameters.teleScale, rotation: parameters.teleRotation * .pi / 180,
            translation: .zero, about: centre)
        let offset = SIMD2(parameters.teleOffset[0], parameters.teleOffset[1])
        teleToScene = sourceToTele.inverse!.followed(by: .similarity(scale: 1, rotation: 0, translation: offset, about: .zero))
        sceneToTele = teleToScene.inverse!
        let halfDiagonal = (centre * centre).sum().squareRoot()
        wideLens = RadialDistortion(k: parameters.wideDistortion, radius: halfDiagonal)
        teleLens = RadialDistortion(k: parameters.teleDistortion, radius: halfDiagonal)
    }

    /// The scene point that `I_src`'s point `q` shows: W's pixel (q − c)/r from its centre.
    func scenePoint(source q: SIMD2<Double>) -> SIMD2<Double> {
        centre + zoomRatio * wideLens.distort((q - centre) / zoomRatio)
    }

    func sourcePoint(scene z: SIMD2<Double>) -> SIMD2<Double> {
        centre + zoomRatio * wideLens.undistort((z - centre) / zoomRatio)
    }

    /// The scene point that T's point `p` shows at the focus depth.
    func scenePoint(tele p: SIMD2<Double>) -> SIMD2<Double> {
        teleToScene.apply(centre + teleLens.distort(p - centre))
    }

    func telePoint(scene z: SIMD2<Double>) -> SIMD2<Double> {
        centre + teleLens.undistort(sceneToTele.apply(z) - centre)
    }

    /// A lens's fall-off of `strength` at W's point `w`, at `I_src`'s point `q` (W's
    /// c + (q − c)/r), or at T's point `p`.
    func wideGain(wide w: SIMD2<Double>, strength: Double) -> Double {
        1 - strength * wideLens.normalisedSquare(w - centre)
    }

    func wideGain(source q: SIMD2<Double>, strength: Double) -> Double {
        wideGain(wide: centre + (q - centre) / zoomRatio, strength: strength)
    }

    func teleGain(tele p: SIMD2<Double>, strength: Double) -> Double {
        1 - strength * teleLens.normalisedSquare(p - centre)
    }
}

/// Radial lens distortion about the image centre: x ↦ x·(1 + k·|x|²/R²).
struct RadialDistortion {
    let k: Double
    let radius: Double

    func normalisedSquare(_ x: SIMD2<Double>) -> Double { (x * x).sum() / (radius * radius) }

    func distort(_ x: SIMD2<Double>) -> SIMD2<Double> { x * (1 + k * normalisedSquare(x)) }

    /// By fixed-point iteration: |k| is small, so it converges in a few steps.
    func undistort(_ y: SIMD2<Double>) -> SIMD2<Double> {
        guard k != 0 else { return y }
        var x = y
        for _ in 0..<6 { x = y / (1 + k * normalisedSquare(x)) }
        return x
    }
}

extension FlowField {
    /// The displacement of a map at each pixel centre: pixel x goes to `map(x)`.
    init(size: Size, map: (SIMD2<Double>) -> SIMD2<Double>) {
        var (u, v) = (Plane(width: size.width, height: size.height), Plane(width: size.width, height: size.height))
        for y in 0..<size.height {
            for x in 0..<size.width {
                let centre = SIMD2(Double(x) + 0.5, Double(y) + 0.5), moved = map(centre) - centre
                (u[x, y], v[x, y]) = (Float(moved.x), Float(moved.y))
            }
        }
        self.init(u: u, v: v)
    }

    /// The flow of the other direction: for each x, the y with y + flow(y) = x, minus x. Found by
    /// fixed-point iteration y ← x − flow(y), which converges because the simulated flow is
    /// smooth (its gradient is far below 1).
    func inverted(iterations: Int = 8) -> FlowField {
        var inverse = FlowField(
            u: Plane(width: u.width, height: u.height, pixels: u.pixels.map { -$0 }),
            v: Plane(width: v.width, height: v.height, pixels: v.pixels.map { -$0 }))
        for _ in 0..<iterations {
            let u = inverse.sample(self.u), v = inverse.sample(self.v)
            inverse = FlowField(
                u: Plane(width: u.width, height: u.height, pixels: u.pixels.map { -$0 }),
                v: Plane(width: v.width, height: v.height, pixels: v.pixels.map { -$0 }))
        }
        return inverse
    }
}

/// A smooth random inverse-depth map in [0, 1] over T's frame, from which the background's
/// parallax and defocus follow: nearer things shift more between the two cameras, and T, focused
/// at the centre's depth, blurs what lies far in front of or behind it.
struct DepthField {
    let inverseDepth: Plane
    let focus: Float

    init(frame: Size, random: SeededRandom) {
        var random = random
        let coarse = Plane(width: 6, height: 5, pixels: (0..<30).map { _ in random.unit() })
        inverseDepth = resample(coarse, from: Rect(x: 0, y: 0, width: 6, height: 5), to: frame)
        focus = inverseDepth[frame.width / 2, frame.height / 2]
    }

    /// The disparity of T's pixel (x, y) from the focus depth: `parallax` per unit of inverse
    /// depth along `direction`.
    func disparity(_ x: Int, _ y: Int, parallax: Double, direction: [Double]) -> SIMD2<Double> {
        let step = parallax * Double(inverseDepth[x, y] - focus)
        return SIMD2(direction[0] * step, direction[1] * step)
    }

    /// Blur σ in pixels: T's lens blurs a point in proportion to how far its disparity is from
    /// the focus plane's (both grow with 1/depth − 1/focus depth; their ratio is the aperture
    /// over the baseline), so flow and defocus agree as they do in a real rig, which is what the
    /// defocus map relies on. At most `DepthField.maximumBlur`.
    func defocusBlur(parallax: Double, direction: [Double]) -> Plane {
        let disparity = Float(parallax * (direction[0] * direction[0] + direction[1] * direction[1]).squareRoot())
        return Plane(
            width: inverseDepth.width, height: inverseDepth.height,
            pixels: inverseDepth.pixels.map { Self.blur(disparity: disparity * abs($0 - focus)) })
    }

    /// T's blur σ for a point `disparity` pixels off the focus depth's.
    static func blur(disparity: Float) -> Float { min(0.35 * disparity, 4) }
}
