/// Step 7: T's detail brought into `I_src`'s luma. Both methods (the network and classical
/// detail transfer) read the same three planes and return `Y_fusion` on the `I_src` grid. A
/// method may write `Y_fusion` over the samples of a plane it is handed the only reference to.
public protocol Fusion: Sendable {
    func fuse(_ inputs: consuming FusionInputs) throws -> Plane
}

/// What fusion reads, all at full resolution on the `I_src` grid, values in [0, 1].
public struct FusionInputs: Sendable {
    /// `Y_src`: W's luma cropped to T's field of view and resampled to T's resolution, held or
    /// made as it is read.
    public var source: SourceLuma
    /// `Ỹ_ref`: T's colour-matched luma warped onto the grid; `Y_src` where T has nothing, so
    /// no method sees T's clamped edge.
    public var reference: Plane
    /// `M_occ`: 1 where T must not be used (occluded, or outside T's frame), enlarged from the
    /// flow's grid as each row is read.
    public var occlusion: EnlargedMask

    public init(source: SourceLuma, reference: Plane, occlusion: EnlargedMask) {
        precondition(
            source.size == reference.size && source.size == occlusion.size,
            "fusion inputs differ in size: \(source.size), \(reference.size), \(occlusion.size)")
        (self.source, self.reference, self.occlusion) = (source, reference, occlusion)
    }

    /// The inputs with `Y_src` held.
    public init(source: Plane, reference: Plane, occlusion: EnlargedMask) {
        self.init(source: SourceLuma(source), reference: reference, occlusion: occlusion)
    }

    /// The inputs with `Y_src` held and `M_occ` given at full resolution.
    public init(source: Plane, reference: Plane, occlusion: Plane) {
        self.init(source: source, reference: reference, occlusion: EnlargedMask(occlusion, to: occlusion.size))
    }

    /// The inputs from an alignment of T to `source`: `M_occ` where T is occluded or out of
    /// frame on the flow's grid, and T's warped luma as alignment left it (with `Y_src` already
    /// past T's edge), shared rather than copied.
    public init(source: Plane, alignment: Alignment) {
        self.init(source: SourceLuma(source), alignment: alignment)
    }

    /// The same with `Y_src` held or made as it is read.
    public init(source: SourceLuma, alignment: Alignment) {
        guard let reference = alignment.warpedReference else {
            preconditionFailure("this alignment's Ỹ_ref was handed to fusion, which wrote over it")
        }
        let (occluded, outside) = (alignment.occlusion, alignment.outsideReference)
        let unusable = Plane(width: occluded.width, height: occluded.height, pixels: zip(occluded.pixels, outside.pixels).map(max))
        self.init(source: source, reference: reference, occlusion: EnlargedMask(unusable, to: source.size))
    }
}

/// A rectangle of a plane where it lies in memory: pixel (x, y) of the plane at
/// `pixels + (y − origin.y) · rowLength + (x − origin.x)`, for the pixels the rectangle holds.
/// A whole plane, or a part of it made or copied for one tile.
package struct PlaneRegion {
    package let pixels: UnsafePointer<Float>
    package let origin: (x: Int, y: Int)
    package let rowLength: Int

    package init(_ pixels: UnsafePointer<Float>, origin: (x: Int, y: Int) = (0, 0), rowLength: Int) {
        (self.pixels, self.origin, self.rowLength) = (pixels, origin, rowLength)
    }

    /// Row y from column x on.
    @inline(__always)
    package func row(_ y: Int, from x: Int) -> UnsafePointer<Float> {
        pixels + (y - origin.y) * rowLength + (x - origin.x)
    }
}
