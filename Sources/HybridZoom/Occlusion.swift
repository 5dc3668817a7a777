/// Step 6: the forward–backward check. Where the backward flow, read at the point the forward
/// flow leads to, does not lead back, the pixel's scene point is probably not visible in T:
/// `M_occ(x) = min(s · ‖W(W(x; F_fwd); F_bwd) − x‖, 1)`.
public func occlusionMap(forward: FlowField, backward: FlowField, scale s: Float) -> Plane {
    let back = (u: forward.sample(backward.u), v: forward.sample(backward.v))
    var result = Plane(width: forward.size.width, height: forward.size.height)
    for i in result.pixels.indices {
        let du = forward.u.pixels[i] + back.u.pixels[i], dv = forward.v.pixels[i] + back.v.pixels[i]
        result.pixels[i] = min(s * (du * du + dv * dv).squareRoot(), 1)
    }
    return result
}
