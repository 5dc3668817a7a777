/// Where the telephoto camera looks inside the wide camera's frame.
public struct RigCalibration: Sendable, Equatable {
    /// T focal length / W focal length (`r` in the paper), > 1.
    public var zoomRatio: Double
    /// T's optical centre minus W's image centre, as fractions of W's width and height.
    public var centerOffset: (x: Double, y: Double)

    public init(zoomRatio: Double, centerOffset: (x: Double, y: Double) = (0, 0)) {
        self.zoomRatio = zoomRatio
        self.centerOffset = centerOffset
    }

    public static func == (a: RigCalibration, b: RigCalibration) -> Bool {
        a.zoomRatio == b.zoomRatio && a.centerOffset == b.centerOffset
    }
}

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
        let width = Double(wide.width) / zoom
        let height = min(
            width * Double(outputSize.height) / Double(outputSize.width),
            Double(wide.height))
        let centreX = Double(wide.width) * (0.5 + calibration.centerOffset.x)
        let centreY = Double(wide.height) * (0.5 + calibration.centerOffset.y)
        let x = (centreX - width / 2).clamped(to: 0...(Double(wide.width) - width))
        let y = (centreY - height / 2).clamped(to: 0...(Double(wide.height) - height))
        return Rect(x: x, y: y, width: width, height: height)
    }

    /// W's `crop` resampled to `size` (bicubic, luma and chroma), with 4:2:0 chroma.
    public static func render(_ wide: YCbCrImage, crop: Rect, to size: Size) -> YCbCrImage {
        let chromaSize = YCbCrImage.chroma420Size(for: size)
        let scale = wide.chromaScale
        let chromaCrop = crop.scaled(scale.x, scale.y)
        return YCbCrImage(
            y: resample(wide.y, from: crop, to: size),
            cb: resample(wide.cb, from: chromaCrop, to: chromaSize),
            cr: resample(wide.cr, from: chromaCrop, to: chromaSize))
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
