import HybridZoom

extension FlowField {
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

/// A smooth random inverse-depth map in [0, 1] over the frame, from which parallax and defocus
/// follow: nearer things shift more between the two cameras, and T, focused at the centre's
/// depth, blurs what lies far in front of or behind it.
struct DepthField {
    let inverseDepth: Plane
    let focus: Float

    init(frame: Size, random: SeededRandom) {
        var random = random
        let coarse = Plane(width: 6, height: 5, pixels: (0..<30).map { _ in random.unit() })
        inverseDepth = resample(coarse, from: Rect(x: 0, y: 0, width: 6, height: 5), to: frame)
        focus = inverseDepth[frame.width / 2, frame.height / 2]
    }

    /// T's displacement: the global offset plus mostly horizontal disparity (the cameras sit side
    /// by side), zero at the focus depth.
    func displacement(offset: [Double], parallax: Double) -> FlowField {
        let horizontal = Float(parallax), vertical = Float(parallax) * 0.2
        return FlowField(
            u: mapped { Float(offset[0]) + horizontal * ($0 - focus) },
            v: mapped { Float(offset[1]) + vertical * ($0 - focus) })
    }

    /// Blur σ in pixels: T's lens blurs a point in proportion to how far its disparity is from
    /// the focus plane's (both grow with 1/depth − 1/focus depth; their ratio is the aperture
    /// over the baseline), so flow and defocus agree as they do in a real rig, which is what the
    /// defocus map relies on. At most `maximum`.
    func defocusBlur(parallax: Double, perPixelOfDisparity ratio: Float = 0.35, maximum: Float = 4) -> Plane {
        let disparity = Float(parallax) * (1 + 0.2 * 0.2).squareRoot()
        return mapped { min(ratio * disparity * abs($0 - focus), maximum) }
    }

    private func mapped(_ transform: (Float) -> Float) -> Plane {
        Plane(width: inverseDepth.width, height: inverseDepth.height, pixels: inverseDepth.pixels.map(transform))
    }
}
