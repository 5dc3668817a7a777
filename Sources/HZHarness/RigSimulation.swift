import Foundation
import HZImageIO
import HybridZoom

/// Everything that differs between two simulated captures of the same photo.
public struct RigParameters: Codable, Sendable, Equatable {
    public var zoomRatio: Double
    /// Pixel size of both cameras' frames.
    public var frameWidth: Int
    public var frameHeight: Int
    /// T's global misalignment against the calibrated field of view, in frame pixels.
    public var teleOffset: [Double]
    /// Disparity in frame pixels between the nearest and the farthest depth of the scene.
    public var parallax: Double
    /// T is out of focus away from the focus depth (depth-of-field mismatch), in proportion to
    /// the disparity from it; false models a stopped-down T (tests use it to isolate effects).
    public var defocus: Bool
    /// Objects close to T that W does not see.
    public var occluders: Int
    /// T's different colour response: luma gain and offset, Cb and Cr shifts.
    public var teleGain: Double
    public var teleBias: Double
    public var teleChromaShift: [Double]
    /// W's optics blur (σ, in W pixels) on top of the downsampling.
    public var wideBlur: Double
    public var exposure: Exposure
    public var jpegQuality: Int
    public var seed: UInt64

    public var frameSize: Size { Size(width: frameWidth, height: frameHeight) }

    /// Parameters drawn from `seed`: offsets up to ±150 px at 12 MP (scaled to the frame width),
    /// parallax up to 24 px at 12 MP (and with it, defocus away from the focus depth), occluders in
    /// about a third of captures.
    public static func draw(seed: UInt64, frameSize: Size, zoomRatio: Double, exposure: Exposure) -> RigParameters {
        var random = SeededRandom(seed: seed)
        let scale = Double(frameSize.width) / 4032
        func uniform(_ range: ClosedRange<Double>) -> Double {
            range.lowerBound + Double(random.unit()) * (range.upperBound - range.lowerBound)
        }
        return RigParameters(
            zoomRatio: zoomRatio, frameWidth: frameSize.width, frameHeight: frameSize.height,
            teleOffset: [uniform(-150...150) * scale, uniform(-150...150) * scale],
            parallax: uniform(0...24) * scale,
            defocus: true, occluders: random.unit() < 0.33 ? 1 + Int(random.unit() * 2) : 0,
            teleGain: uniform(0.92...1.08), teleBias: uniform(-0.03...0.03),
            teleChromaShift: [uniform(-0.02...0.02), uniform(-0.02...0.02)],
            wideBlur: uniform(0.4...0.8), exposure: exposure, jpegQuality: 92, seed: seed)
    }
}

/// One simulated capture: the two camera frames as the rig would write them, and the ground
/// truth that scores what the pipeline makes of them.
///
/// Geometry: the pipeline's source `I_src` is W cropped to T's calibrated field of view and
/// resampled to T's resolution; all ground truth lives on that grid (`frameSize`). T's pixel y
/// shows the scene point that `I_src`'s grid has at y + d(y), where d is T's global offset plus
/// a parallax field that follows a smooth random depth map.
public struct SimulatedCapture: Sendable {
    public var parameters: RigParameters
    public var wide: YCbCrImage
    public var tele: YCbCrImage
    public var wideEXIF: EXIF
    public var teleEXIF: EXIF
    /// The clean luma of T's calibrated field of view on the `I_src` grid: what a perfect
    /// pipeline would output. It comes from no simulated camera, so it is neither T's
    /// sub-pixel position nor its noise: a network cannot learn to copy T into it.
    public var target: Plane
    /// `I_src` → T: where each `I_src` pixel's scene point is in T, minus its position.
    public var forwardFlow: FlowField
    /// T → `I_src`: where each T pixel's scene point is on the `I_src` grid, minus its position.
    public var backwardFlow: FlowField
    /// 1 where the `I_src` pixel's scene point is hidden in T by an occluder.
    public var occlusion: Plane
    /// 1 where T shows the `I_src` pixel's scene point out of focus.
    public var defocus: Plane
    /// 1 where the `I_src` pixel's scene point is inside T's frame.
    public var teleCoverage: Plane
}

/// Makes simulated captures from one photograph, the scene.
public struct RigSimulation: Sendable {
    /// The scene at r × the frame size, so T's pixels map one to one onto it.
    let scene: YCbCrImage
    public let parameters: RigParameters

    public init(photo: YCbCrImage, parameters: RigParameters) {
        self.parameters = parameters
        let frame = parameters.frameSize, r = parameters.zoomRatio
        let sceneSize = Size(width: Int((Double(frame.width) * r).rounded()), height: Int((Double(frame.height) * r).rounded()))
        scene = DigitalZoom.render(photo, crop: Self.sceneRect(photo.size, aspect: frame), to: sceneSize)
    }

    /// The largest centred part of the photo with the frames' aspect ratio.
    static func sceneRect(_ photo: Size, aspect frame: Size) -> Rect {
        let aspect = Double(frame.width) / Double(frame.height)
        let width = min(Double(photo.width), Double(photo.height) * aspect), height = width / aspect
        return Rect(x: (Double(photo.width) - width) / 2, y: (Double(photo.height) - height) / 2, width: width, height: height)
    }

    /// The default frame size for a photo: the photo's size divided by r (so T never upsamples
    /// the photo), limited to `maximumWidth`, even in both directions.
    public static func frameSize(photo: Size, zoomRatio: Double, maximumWidth: Int, aspect: Double = 4.0 / 3) -> Size {
        let scene = sceneRect(photo, aspect: Size(width: Int(aspect * 3000), height: 3000))
        let width = min(Int(scene.width / zoomRatio), maximumWidth) & ~1
        return Size(width: width, height: Int(Double(width) / aspect) & ~1)
    }

    public func capture(at time: Date) -> SimulatedCapture {
        let random = SeededRandom(seed: parameters.seed ^ 0x5EED)
        let frame = parameters.frameSize
        let depth = DepthField(frame: frame, random: random.derived(1))
        let displacement = depth.displacement(offset: parameters.teleOffset, parallax: parameters.parallax)
        var tele = renderTele(displacement)
        let blur = parameters.defocus ? depth.defocusBlur(parallax: parameters.parallax) : Plane(width: frame.width, height: frame.height)
        if parameters.defocus { tele = applyDefocus(tele, blur: blur) }
        let occluderMask = Occluders(count: parameters.occluders, frame: frame, random: random.derived(2)).paint(on: &tele, from: scene)
        tele = adjustColour(tele)
        let inverse = displacement.inverted()
        let exposure = parameters.exposure
        return SimulatedCapture(
            parameters: parameters,
            wide: SensorNoise(iso: exposure.wideISO).apply(to: darken(renderWide()), random: random.derived(3)),
            tele: SensorNoise(iso: exposure.teleISO).apply(to: darken(to420(tele)), random: random.derived(4)),
            wideEXIF: exif(role: "W", time: time, focalLength: 4.7, fNumber: exposure.wideFNumber, iso: exposure.wideISO),
            teleEXIF: exif(role: "T", time: time, focalLength: 4.7 * parameters.zoomRatio, fNumber: exposure.teleFNumber, iso: exposure.teleISO),
            target: scale(resample(scene.y, from: teleRect, to: frame), by: Float(exposure.brightness)),
            forwardFlow: inverse,
            backwardFlow: displacement,
            occlusion: threshold(inverse.sample(occluderMask), above: 0.5),
            defocus: threshold(inverse.sample(blur), above: 1),
            teleCoverage: inverse.coverage())
    }

    /// T's calibrated field of view on the scene: its centre 1/r, one scene pixel per T pixel.
    var teleRect: Rect {
        let frame = parameters.frameSize
        return Rect(
            x: Double(scene.size.width - frame.width) / 2, y: Double(scene.size.height - frame.height) / 2,
            width: Double(frame.width), height: Double(frame.height))
    }

    /// W: the whole scene, downsampled by r (the resampler low-passes as it shrinks), then the
    /// softer lens.
    private func renderWide() -> YCbCrImage {
        let zoomed = DigitalZoom.render(
            scene, crop: scene.size.bounds,
            to: parameters.frameSize)
        let sigma = parameters.wideBlur
        return YCbCrImage(
            y: gaussianBlur(zoomed.y, sigma: sigma), cb: gaussianBlur(zoomed.cb, sigma: sigma / 2),
            cr: gaussianBlur(zoomed.cr, sigma: sigma / 2))
    }

    /// T at full chroma resolution: pixel y reads the scene at teleRect's y + d(y).
    private func renderTele(_ displacement: FlowField) -> YCbCrImage {
        let origin = teleRect, chroma = scene.chromaScale
        func read(_ plane: Plane, scaleX: Double, scaleY: Double) -> Plane {
            // T luma index → scene luma index (origin + index + d) → the plane's index, centred siting.
            var u = displacement.u, v = displacement.v
            for y in 0..<u.height {
                for x in 0..<u.width {
                    u[x, y] = Float((origin.x + Double(x) + Double(u[x, y]) + 0.5) * scaleX - 0.5) - Float(x)
                    v[x, y] = Float((origin.y + Double(y) + Double(v[x, y]) + 0.5) * scaleY - 0.5) - Float(y)
                }
            }
            return warp(plane, dx: u, dy: v, interpolation: .bicubic)
        }
        return YCbCrImage(
            y: read(scene.y, scaleX: 1, scaleY: 1),
            cb: read(scene.cb, scaleX: chroma.x, scaleY: chroma.y),
            cr: read(scene.cr, scaleX: chroma.x, scaleY: chroma.y))
    }

    /// Blends between copies of T blurred by 0, 1, 2 and 3 px, following the blur map.
    private func applyDefocus(_ tele: YCbCrImage, blur: Plane) -> YCbCrImage {
        func defocused(_ plane: Plane) -> Plane {
            let levels = (0...3).map { gaussianBlur(plane, sigma: Double($0)) }
            var result = plane
            for i in result.pixels.indices {
                let sigma = min(max(blur.pixels[i], 0), 3), lower = min(Int(sigma), 2), t = sigma - Float(lower)
                result.pixels[i] = levels[lower].pixels[i] * (1 - t) + levels[lower + 1].pixels[i] * t
            }
            return result
        }
        return YCbCrImage(y: defocused(tele.y), cb: defocused(tele.cb), cr: defocused(tele.cr))
    }

    private func adjustColour(_ tele: YCbCrImage) -> YCbCrImage {
        let gain = Float(parameters.teleGain), bias = Float(parameters.teleBias)
        let shift = parameters.teleChromaShift.map(Float.init)
        return YCbCrImage(
            y: Plane(width: tele.y.width, height: tele.y.height, pixels: tele.y.pixels.map { $0 * gain + bias }),
            cb: Plane(width: tele.cb.width, height: tele.cb.height, pixels: tele.cb.pixels.map { $0 + shift[0] }),
            cr: Plane(width: tele.cr.width, height: tele.cr.height, pixels: tele.cr.pixels.map { $0 + shift[1] }))
    }

    /// Low light: luma scaled down, chroma pulled towards neutral by the same factor.
    private func darken(_ image: YCbCrImage) -> YCbCrImage {
        let factor = Float(parameters.exposure.brightness)
        guard factor < 1 else { return image }
        func towardsNeutral(_ plane: Plane) -> Plane {
            Plane(width: plane.width, height: plane.height, pixels: plane.pixels.map { 0.5 + ($0 - 0.5) * factor })
        }
        return YCbCrImage(y: scale(image.y, by: factor), cb: towardsNeutral(image.cb), cr: towardsNeutral(image.cr))
    }

    private func to420(_ image: YCbCrImage) -> YCbCrImage {
        let size = YCbCrImage.chroma420Size(for: image.size)
        let full = image.cb.size.bounds
        return YCbCrImage(y: image.y, cb: resample(image.cb, from: full, to: size), cr: resample(image.cr, from: full, to: size))
    }

    private func exif(role: String, time: Date, focalLength: Double, fNumber: Double, iso: Int) -> EXIF {
        var exif = EXIF.stamped(time: time)
        exif.make = "hzsr simulator"
        exif.model = "simulated \(role)"
        exif.exposureTime = parameters.exposure.exposureTime
        exif.fNumber = fNumber
        exif.iso = iso
        exif.focalLength = focalLength
        return exif
    }
}

private func scale(_ plane: Plane, by factor: Float) -> Plane {
    factor == 1 ? plane : Plane(width: plane.width, height: plane.height, pixels: plane.pixels.map { $0 * factor })
}

private func threshold(_ plane: Plane, above limit: Float) -> Plane {
    Plane(width: plane.width, height: plane.height, pixels: plane.pixels.map { $0 > limit ? 1 : 0 })
}

extension EXIF {
    /// The same EXIF with its capture time set to `time`.
    public func restamped(_ time: Date) -> EXIF {
        let stamp = EXIF.stamped(time: time)
        var exif = self
        exif.dateTimeOriginal = stamp.dateTimeOriginal
        exif.subSecTimeOriginal = stamp.subSecTimeOriginal
        exif.offsetTimeOriginal = stamp.offsetTimeOriginal
        return exif
    }

    /// EXIF dated `time` in UTC with millisecond sub-seconds, as a camera would stamp it.
    public static func stamped(time: Date) -> EXIF {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let rounded = Date(timeIntervalSince1970: (time.timeIntervalSince1970 * 1000).rounded() / 1000)
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: rounded)
        var exif = EXIF()
        exif.dateTimeOriginal = String(format: "%04d:%02d:%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        exif.subSecTimeOriginal = String(format: "%03d", (c.nanosecond! + 500_000) / 1_000_000)
        exif.offsetTimeOriginal = "+00:00"
        return exif
    }
}
