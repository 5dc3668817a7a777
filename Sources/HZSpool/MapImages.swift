import Foundation
import HybridZoom

/// One of a capture's maps as a picture for people to look at, on the maps' grid (the flow's,
/// about 512 px wide): what `output.maps` publishes and `hzsr maps` shows.
public struct MapImage: Sendable {
    /// Which map: alignment's flow, uncertainty and occlusion, each blend map by its registered
    /// name (`BlendMaps`), and the blend weight.
    public enum Name: Sendable, Equatable {
        case flow, uncertainty, occlusion
        case blendMap(String)
        case blend

        /// Its file name in `<pair>.maps/` without the extension. Blend maps are `map-<name>`, so
        /// the occlusion blend map cannot clash with alignment's occlusion.
        public var fileStem: String {
            switch self {
            case .flow: "flow"
            case .uncertainty: "uncertainty"
            case .occlusion: "occlusion"
            case .blendMap(let name): "map-\(name)"
            case .blend: "blend"
            }
        }
    }

    public var name: Name
    /// What it shows and on what scale, as a caption.
    public var title: String
    public var image: YCbCrImage
}

extension Alignment {
    /// Steps 5–6: the forward flow, its uncertainty and the occlusion.
    public var mapImages: [MapImage] {
        let evidence = coarse.detailCorrelation.map { String(format: "fitted directly, correlation %.2f", $0) } ?? "\(coarse.inliers) inliers"
        let flowTitle = String(
            format: "flow I_src → T (coarse %.1f, %.1f px, %@%@)", coarse.translation.x, coarse.translation.y, evidence,
            coarse.isReliable ? "" : ", unreliable")
        return [
            MapImage(name: .flow, title: flowTitle, image: flowImage(u: forward.flow.u, v: forward.flow.v)),
            MapImage(name: .uncertainty, title: "uncertainty S (0–2 px)", image: heatImage(forward.uncertainty, range: 0...2)),
            MapImage(name: .occlusion, title: "occlusion M_occ", image: heatImage(occlusion, range: 0...1)),
        ]
    }
}

extension BlendWeights {
    /// Step 8: each map by name (1: T not trusted), then the weight they leave (1: T's detail used).
    public var mapImages: [MapImage] {
        maps.sorted(by: { $0.key < $1.key }).map { name, map in
            MapImage(name: .blendMap(name), title: "map: \(name)", image: heatImage(map, range: 0...1))
        } + [
            MapImage(
                name: .blend, title: String(format: "blend weight M_blend (coverage %.2f)", coverage),
                image: heatImage(weight, range: 0...1))
        ]
    }
}

extension ProcessedCapture {
    /// Alignment's maps when it ran, and the blend's when the capture was fused.
    public var mapImages: [MapImage] { (alignment?.mapImages ?? []) + (blend?.mapImages ?? []) }
}
