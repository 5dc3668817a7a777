import Foundation

/// Step 2 of the pipeline and the fallback of every later one: the part of W that an output of a
/// given zoom shows, and that part resampled to the output size.
public enum DigitalZoom {
    /// The rectangle of W (in W's pixels) that an output of `zoom` (relative to W's full view) with
    /// `outputSize`'s aspect ratio shows. It is centred on T's optical centre, so that at the tele
    /// zoom it is exactly T's field of view, and slid inside W where it would cross W's border.
    public static func cropRect(
        wide: Size, calibration: RigCalibration,
        zoom: Double, outputSize: Size
    ) -> Rect {
        precondition(zoom >= 1, "zoom \(zoom) shows more than the wide camera sees")
        let aspect = Double(outputSize.height) / Double(outputSize.width)
        var width = Double(wide.width) / zoom, height = width * aspect
        // An output taller than W at this zoom shows W's whole height, and less of its width.
        if height > Double(wide.height) { (width, height) = (Double(wide.height) / aspect, Double(wide.height)) }
        let centreX = Double(wide.width) * (0.5 + calibration.centerOffset.x)
        let centreY = Double(wide.height) * (0.5 + calibration.centerOffset.y)
        let x = (centreX - width / 2).clamped(to: 0...(Double(wide.width) - width))
        let y = (centreY - height / 2).clamped(to: 0...(Double(wide.height) - height))
        return Rect(x: x, y: y, width: width, height: height)
    }

    /// T's view in W: the crop at the tele zoom, on T's frame size, turned by the rig's rotation.
    public static func teleView(wide: Size, calibration: RigCalibration, teleSize: Size) -> TeleView {
        TeleView(
            crop: cropRect(wide: wide, calibration: calibration, zoom: calibration.zoomRatio, outputSize: teleSize),
            rotation: calibration.rotation)
    }

    /// W in T's view, on a grid of `size` (`I_src` at T's size): the crop resampled when the
    /// rig is not turned, else W read along the turned grid (bicubic; an enlargement, so
    /// nothing to low-pass). 4:2:0 chroma.
    public static func render(_ wide: YCbCrImage, view: TeleView, to size: Size) -> YCbCrImage {
        render((wide.y, wide.cb, wide.cr), view: view, to: size)
    }

    /// The same from W as decoded, in 8 bits.
    public static func render(_ wide: CameraImage, view: TeleView, to size: Size) -> YCbCrImage {
        render((wide.y, wide.cb, wide.cr), view: view, to: size)
    }

    /// One plane of W at W's full resolution (luma) in T's view, as `render` makes `I_src`'s luma.
    public static func render(_ wideLuma: Plane, view: TeleView, to size: Size) -> Plane {
        renderPlane(wideLuma, view: view, to: size)
    }

    /// The same from W's luma as decoded, in 8 bits.
    public static func render(_ wideLuma: BytePlane, view: TeleView, to size: Size) -> Plane {
        renderPlane(wideLuma, view: view, to: size)
    }

    /// W's `crop` resampled to `size` (bicubic, luma and chroma), with 4:2:0 chroma.
    public static func render(_ wide: YCbCrImage, crop: Rect, to size: Size) -> YCbCrImage {
        render((wide.y, wide.cb, wide.cr), crop: crop, to: size)
    }

    /// The same from W as decoded, in 8 bits.
    public static func render(_ wide: CameraImage, crop: Rect, to size: Size) -> YCbCrImage {
        render((wide.y, wide.cb, wide.cr), crop: crop, to: size)
    }

    /// W's chroma in T's view, as `render` makes `I_src`'s, from W (of `wide`'s size) as
    /// decoded: for a grid whose luma is made apart (the pipeline's, from fusion).
    public static func renderChroma(cb: BytePlane, cr: BytePlane, wide: Size, view: TeleView, to size: Size) -> (cb: Plane, cr: Plane) {
        renderChroma((cb, cr), wide: wide, view: view, to: size)
    }

    private static func render<P: ReadablePlane>(_ wide: (y: P, cb: P, cr: P), view: TeleView, to size: Size) -> YCbCrImage {
        let (cb, cr) = renderChroma((wide.cb, wide.cr), wide: wide.y.size, view: view, to: size)
        return YCbCrImage(y: renderPlane(wide.y, view: view, to: size), cb: cb, cr: cr)
    }

    private static func renderChroma<P: ReadablePlane>(
        _ chroma: (cb: P, cr: P), wide: Size, view: TeleView, to size: Size
    ) -> (cb: Plane, cr: Plane) {
        guard view.rotation != 0 else { return renderChroma(chroma, wide: wide, crop: view.crop, to: size) }
        let chromaSize = YCbCrImage.chroma420Size(for: size), scale = chromaScale(wide, chroma.cb.size)
        let mapping = Homography.scaling(
            x: Double(size.width) / Double(chromaSize.width), y: Double(size.height) / Double(chromaSize.height)
        )
        .followed(by: view.wideMapping(from: size)).followed(by: .scaling(x: scale.x, y: scale.y))
        return (
            warp(reading: chroma.cb, by: mapping, to: chromaSize, interpolation: .bicubic),
            warp(reading: chroma.cr, by: mapping, to: chromaSize, interpolation: .bicubic)
        )
    }

    private static func renderPlane<P: ReadablePlane>(_ wideLuma: P, view: TeleView, to size: Size) -> Plane {
        view.rotation == 0
            ? resample(wideLuma, from: view.crop, to: size)
            : warp(reading: wideLuma, by: view.wideMapping(from: size), to: size, interpolation: .bicubic)
    }

    private static func render<P: ReadablePlane>(_ wide: (y: P, cb: P, cr: P), crop: Rect, to size: Size) -> YCbCrImage {
        let (cb, cr) = renderChroma((wide.cb, wide.cr), wide: wide.y.size, crop: crop, to: size)
        return YCbCrImage(y: resample(wide.y, from: crop, to: size), cb: cb, cr: cr)
    }

    private static func renderChroma<P: ReadablePlane>(
        _ chroma: (cb: P, cr: P), wide: Size, crop: Rect, to size: Size
    ) -> (cb: Plane, cr: Plane) {
        let chromaSize = YCbCrImage.chroma420Size(for: size), scale = chromaScale(wide, chroma.cb.size)
        let chromaCrop = crop.scaled(scale.x, scale.y)
        return (resample(chroma.cb, from: chromaCrop, to: chromaSize), resample(chroma.cr, from: chromaCrop, to: chromaSize))
    }
}

/// Where T looks in W: the crop at the tele zoom (where T's view lies when the rig is not
/// turned), turned about its centre by the rig's rotation.
public struct TeleView: Sendable, Equatable {
    public var crop: Rect
    /// Degrees, as `RigCalibration.rotation`.
    public var rotation: Double

    public init(crop: Rect, rotation: Double = 0) {
        self.crop = crop
        self.rotation = rotation
    }

    /// A point of a grid of `size` laid over the view (`I_src`'s grid) → the point of W it shows.
    public func wideMapping(from size: Size) -> Homography {
        let (kx, ky) = (crop.width / Double(size.width), crop.height / Double(size.height))
        let angle = -rotation * .pi / 180, (c, s) = (cos(angle), sin(angle))
        let centre = SIMD2(crop.x + crop.width / 2, crop.y + crop.height / 2)
        let grid = SIMD2(Double(size.width), Double(size.height)) / 2
        // w = centre + R(−θ)·diag(kx, ky)·(q − grid centre)
        let (a, b, d, e) = (c * kx, -s * ky, s * kx, c * ky)
        return Homography([
            a, b, centre.x - a * grid.x - b * grid.y,
            d, e, centre.y - d * grid.x - e * grid.y,
            0, 0, 1,
        ])
    }
}

extension DigitalZoom {
    /// Where `inner`, a rectangle of W in W's pixels (such as T's field of view, the crop at the
    /// tele zoom), lands in an output of `outputSize` that shows `crop` of W: in output pixels.
    /// For `Blend.paste` at output zooms other than the tele zoom.
    public static func placement(of inner: Rect, in crop: Rect, outputSize: Size) -> Rect {
        let sx = Double(outputSize.width) / crop.width, sy = Double(outputSize.height) / crop.height
        return Rect(x: (inner.x - crop.x) * sx, y: (inner.y - crop.y) * sy, width: inner.width * sx, height: inner.height * sy)
    }
}
