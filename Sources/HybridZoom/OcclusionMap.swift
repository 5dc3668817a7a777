/// Step 8, occlusion: `M_occ` from alignment's forward–backward check, and 1 wherever the flow
/// leads outside T's frame, since there is nothing of T there to fuse.
public struct OcclusionMap: BlendMap {
    public static let name = "occlusion"

    public init() {}

    public func map(_ inputs: BlendInputs) -> Plane {
        var result = inputs.occlusion
        result.pixels.withUnsafeMutableBufferPointer { occlusion in
            inputs.outsideReference.pixels.withUnsafeBufferPointer { outside in
                for i in occlusion.indices { occlusion[i] = max(occlusion[i], outside[i]) }
            }
        }
        return result
    }
}
