import Foundation
import HZImageIO
import HybridZoom

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
    /// 1 where T shows the `I_src` pixel's scene point visibly blurrier than W does: T's defocus
    /// and denoising, at W's scale, half a W pixel (σ) beyond W's lens blur and denoising.
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
        let frame = parameters.frameSize, geometry = RigGeometry(parameters)
        let depth = DepthField(frame: frame, random: random.derived(1))
        let objects = SceneObject.draw(parameters, random: random.derived(5))
        let background = teleBackground(geometry, depth)

        var tele = renderTele(background.scene)
        var blur =
            parameters.defocus
            ? depth.defocusBlur(parallax: parameters.parallax, direction: parameters.parallaxDirection)
            : Plane(width: frame.width, height: frame.height)
        let teleObjects = paintObjects(objects, on: &tele, blur: &blur, geometry)
        if parameters.defocus { tele = applyDefocus(tele, blur: blur) }
        let occluderMask = Occluders(count: parameters.occluders, frame: frame, random: random.derived(2)).paint(on: &tele, from: scene)
        tele = adjustColour(tele)
        tele.y = vignetted(tele.y) { geometry.teleGain(tele: $0, strength: parameters.teleVignetting) }

        let wideScene = sceneAsWideSees(objects)
        var wide = distortedWide(renderWide(wideScene), geometry)
        wide.y = vignetted(wide.y) { geometry.wideGain(wide: $0, strength: parameters.wideVignetting) }

        let forward = sourceToTele(geometry, objects, wideScene: wideScene, background: background.flow)
        let exposure = parameters.exposure
        return SimulatedCapture(
            parameters: parameters,
            wide: process(
                SensorNoise(iso: exposure.wideISO).apply(to: darken(wide), random: random.derived(3)),
                denoising: parameters.wideDenoising, sharpening: parameters.wideSharpening),
            tele: process(
                SensorNoise(iso: exposure.teleISO).apply(to: darken(to420(tele)), random: random.derived(4)),
                denoising: parameters.teleDenoising, sharpening: parameters.teleSharpening),
            wideEXIF: exif(role: "W", time: time, focalLength: 4.7, fNumber: exposure.wideFNumber, iso: exposure.wideISO),
            teleEXIF: exif(role: "T", time: time, focalLength: 4.7 * parameters.zoomRatio, fNumber: exposure.teleFNumber, iso: exposure.teleISO),
            target: target(wideScene, geometry),
            forwardFlow: forward.flow,
            backwardFlow: teleToSource(geometry, objects, teleObjects: teleObjects, background: background.flow),
            occlusion: hiddenInTele(forward, teleObjects: teleObjects, occluders: occluderMask),
            defocus: blurrierThanWide(forward.flow.sample(blur)),
            teleCoverage: forward.flow.coverage())
    }

    /// 1 where T's blur σ (pixels of T, on `I_src`'s grid) with its denoising, shrunk to W's
    /// scale, exceeds W's lens blur with W's denoising by `visibleBlur`.
    private func blurrierThanWide(_ blur: Plane) -> Plane {
        let p = parameters
        let wide = (p.wideBlur * p.wideBlur + p.wideDenoising * p.wideDenoising).squareRoot()
        let denoising = Float(p.teleDenoising * p.teleDenoising), limit = Float((wide + Self.visibleBlur) * p.zoomRatio)
        return Plane(width: blur.width, height: blur.height, pixels: blur.pixels.map { ($0 * $0 + denoising).squareRoot() > limit ? 1 : 0 })
    }

    /// T's background, pixel by pixel: the scene point it shows (the focus depth's, plus the
    /// parallax of its depth) as a displacement on the scene, and as a flow onto `I_src`'s grid.
    private func teleBackground(_ geometry: RigGeometry, _ depth: DepthField) -> (scene: FlowField, flow: FlowField) {
        let frame = parameters.frameSize
        var scene = FlowField(u: Plane(width: frame.width, height: frame.height), v: Plane(width: frame.width, height: frame.height))
        var flow = scene
        for y in 0..<frame.height {
            for x in 0..<frame.width {
                let p = SIMD2(Double(x) + 0.5, Double(y) + 0.5)
                let z = geometry.scenePoint(tele: p) + depth.disparity(x, y, parallax: parameters.parallax, direction: parameters.parallaxDirection)
                let q = geometry.sourcePoint(scene: z)
                (scene.u[x, y], scene.v[x, y]) = (Float(z.x - p.x), Float(z.y - p.y))
                (flow.u[x, y], flow.v[x, y]) = (Float(q.x - p.x), Float(q.y - p.y))
            }
        }
        return (scene, flow)
    }

    /// The near objects and movers painted into T (full-resolution chroma) where T sees them,
    /// their blur into `blur`; returns which object (1-based, 0 for none) each T pixel shows.
    private func paintObjects(_ objects: [SceneObject], on tele: inout YCbCrImage, blur: inout Plane, _ geometry: RigGeometry) -> Plane {
        let frame = parameters.frameSize
        var shown = Plane(width: frame.width, height: frame.height)
        let reader = SceneReader(scene: scene, origin: teleRect)
        for (index, object) in objects.enumerated() {
            let box = object.silhouette.bounds
            let corners = [box.lower, SIMD2(box.upper.x, box.lower.y), SIMD2(box.lower.x, box.upper.y), box.upper]
                .map { geometry.telePoint(scene: $0 - object.displacement) }
            let margin = 4 + 0.02 * Double(frame.width)
            let columns = max(Int(corners.map(\.x).min()! - margin), 0)..<min(Int(corners.map(\.x).max()! + margin), frame.width)
            let rows = max(Int(corners.map(\.y).min()! - margin), 0)..<min(Int(corners.map(\.y).max()! + margin), frame.height)
            for y in rows {
                for x in columns {
                    let z = geometry.scenePoint(tele: SIMD2(Double(x) + 0.5, Double(y) + 0.5)) + object.displacement
                    let cover = object.silhouette.coverage(z)
                    guard cover > 0 else { continue }
                    let colour = reader.read(z + object.textureOffset, shade: object.shade)
                    tele.y[x, y] += cover * (colour.y - tele.y[x, y])
                    tele.cb[x, y] += cover * (colour.cb - tele.cb[x, y])
                    tele.cr[x, y] += cover * (colour.cr - tele.cr[x, y])
                    blur[x, y] += cover * (object.blur - blur[x, y])
                    if cover > 0.5 { shown[x, y] = Float(index + 1) }
                }
            }
        }
        return shown
    }

    /// The scene with the near objects and movers where W sees them (at W's moment).
    private func sceneAsWideSees(_ objects: [SceneObject]) -> YCbCrImage {
        var painted = scene
        let reader = SceneReader(scene: scene, origin: teleRect)
        for object in objects {
            let box = object.silhouette.bounds
            func paint(_ plane: inout Plane, scale: (x: Double, y: Double), _ channel: KeyPath<SceneReader.Colour, Float>) {
                func range(_ lower: Double, _ upper: Double, _ origin: Double, _ count: Int, _ scale: Double) -> Range<Int> {
                    max(Int(((lower + origin) * scale).rounded(.down)), 0)..<min(Int(((upper + origin) * scale).rounded(.up)), count)
                }
                for y in range(box.lower.y, box.upper.y, teleRect.y, plane.height, scale.y) {
                    for x in range(box.lower.x, box.upper.x, teleRect.x, plane.width, scale.x) {
                        let z = SIMD2((Double(x) + 0.5) / scale.x - teleRect.x, (Double(y) + 0.5) / scale.y - teleRect.y)
                        let cover = object.silhouette.coverage(z)
                        guard cover > 0 else { continue }
                        plane[x, y] += cover * (reader.read(z + object.textureOffset, shade: object.shade)[keyPath: channel] - plane[x, y])
                    }
                }
            }
            paint(&painted.y, scale: (1, 1), \.y)
            paint(&painted.cb, scale: scene.chromaScale, \.cb)
            paint(&painted.cr, scale: scene.chromaScale, \.cr)
        }
        return painted
    }

    /// `I_src` → T, pixel by pixel: an object W shows goes to where T sees that object, the
    /// background to where T sees the background; with which object (0: none) W shows there.
    private func sourceToTele(
        _ geometry: RigGeometry, _ objects: [SceneObject], wideScene: YCbCrImage, background: FlowField
    ) -> (flow: FlowField, shown: Plane) {
        var flow = background.inverted()
        let frame = parameters.frameSize
        var shown = Plane(width: frame.width, height: frame.height)
        guard !objects.isEmpty else { return (flow, shown) }
        for y in 0..<frame.height {
            for x in 0..<frame.width {
                let q = SIMD2(Double(x) + 0.5, Double(y) + 0.5), z = geometry.scenePoint(source: q)
                guard let index = objects.lastIndex(where: { $0.silhouette.coverage(z) > 0.5 }) else { continue }
                let p = geometry.telePoint(scene: z - objects[index].displacement)
                (flow.u[x, y], flow.v[x, y], shown[x, y]) = (Float(p.x - q.x), Float(p.y - q.y), Float(index + 1))
            }
        }
        return (flow, shown)
    }

    /// T → `I_src`, pixel by pixel: where the object or background T shows is on `I_src`'s grid.
    private func teleToSource(_ geometry: RigGeometry, _ objects: [SceneObject], teleObjects: Plane, background: FlowField) -> FlowField {
        var flow = background
        for y in 0..<teleObjects.height {
            for x in 0..<teleObjects.width where teleObjects[x, y] > 0 {
                let p = SIMD2(Double(x) + 0.5, Double(y) + 0.5), object = objects[Int(teleObjects[x, y]) - 1]
                let q = geometry.sourcePoint(scene: geometry.scenePoint(tele: p) + object.displacement)
                (flow.u[x, y], flow.v[x, y]) = (Float(q.x - p.x), Float(q.y - p.y))
            }
        }
        return flow
    }

    /// 1 where T does not show what `I_src` shows: an occluder, or another object (or none, or
    /// one instead of the background) at the point's place in T.
    private func hiddenInTele(_ forward: (flow: FlowField, shown: Plane), teleObjects: Plane, occluders: Plane) -> Plane {
        var hidden = threshold(forward.flow.sample(occluders), above: 0.5)
        for y in 0..<hidden.height {
            for x in 0..<hidden.width {
                let p = (
                    x: Int((Float(x) + 0.5 + forward.flow.u[x, y]).rounded(.down)), y: Int((Float(y) + 0.5 + forward.flow.v[x, y]).rounded(.down))
                )
                guard p.x >= 0, p.y >= 0, p.x < teleObjects.width, p.y < teleObjects.height else { continue }
                if teleObjects[p.x, p.y] != forward.shown[x, y] { hidden[x, y] = 1 }
            }
        }
        return hidden
    }

    /// What a perfect pipeline outputs: the clean scene as W sees it (W's lens, W's fall-off) on
    /// `I_src`'s grid, at T's resolution.
    private func target(_ wideScene: YCbCrImage, _ geometry: RigGeometry) -> Plane {
        let frame = parameters.frameSize
        let origin = SIMD2(teleRect.x, teleRect.y)
        var target = resample(wideScene.y, from: teleRect, to: frame)
        if parameters.wideDistortion != 0 {
            let read = FlowField(size: frame) { geometry.scenePoint(source: $0) + origin }
            target = warp(wideScene.y, dx: read.u, dy: read.v, interpolation: .bicubic)
        }
        target = vignetted(target) { geometry.wideGain(source: $0, strength: parameters.wideVignetting) }
        return scale(target, by: Float(parameters.exposure.brightness))
    }

    /// σ, W pixels, by which T must be blurrier than W to count as defocused: less is within what
    /// sharpening, denoising and JPEG already change between the two cameras, and T shrunk to
    /// W's scale is then about as sharp as W.
    static let visibleBlur = 0.5

    /// T's calibrated field of view on the scene: its centre 1/r, one scene pixel per T pixel.
    var teleRect: Rect {
        let frame = parameters.frameSize
        return Rect(
            x: Double(scene.size.width - frame.width) / 2, y: Double(scene.size.height - frame.height) / 2,
            width: Double(frame.width), height: Double(frame.height))
    }

    /// W: the whole scene, downsampled by r (the resampler low-passes as it shrinks), then the
    /// softer lens.
    private func renderWide(_ scene: YCbCrImage) -> YCbCrImage {
        let zoomed = DigitalZoom.render(scene, crop: scene.size.bounds, to: parameters.frameSize)
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

    /// W through its lens: each pixel shows the undistorted frame at its distorted position.
    private func distortedWide(_ wide: YCbCrImage, _ geometry: RigGeometry) -> YCbCrImage {
        guard parameters.wideDistortion != 0 else { return wide }
        let centre = SIMD2(Double(wide.size.width), Double(wide.size.height)) / 2
        func distorted(_ plane: Plane) -> Plane {
            let scale = SIMD2(Double(plane.width), Double(plane.height)) / (2 * centre)
            let read = FlowField(size: plane.size) { point in (centre + geometry.wideLens.distort(point / scale - centre)) * scale }
            return warp(plane, dx: read.u, dy: read.v, interpolation: .bicubic)
        }
        return YCbCrImage(y: distorted(wide.y), cb: distorted(wide.cb), cr: distorted(wide.cr))
    }

    /// A plane darkened towards its corners by `gain` at each pixel's centre.
    private func vignetted(_ plane: Plane, gain: (SIMD2<Double>) -> Double) -> Plane {
        var result = plane
        for y in 0..<plane.height {
            for x in 0..<plane.width { result[x, y] *= Float(gain(SIMD2(Double(x) + 0.5, Double(y) + 0.5))) }
        }
        return result
    }

    /// A camera's processing after its sensor: denoising (a Gaussian of σ `denoising` on luma,
    /// half that on 4:2:0 chroma), then an unsharp mask of `sharpening` on luma (σ 1 px).
    private func process(_ image: YCbCrImage, denoising: Double, sharpening: Double) -> YCbCrImage {
        guard denoising > 0 || sharpening > 0 else { return image }
        var result = image
        if denoising > 0 {
            result = YCbCrImage(
                y: gaussianBlur(image.y, sigma: denoising), cb: gaussianBlur(image.cb, sigma: denoising / 2),
                cr: gaussianBlur(image.cr, sigma: denoising / 2))
        }
        if sharpening > 0 {
            let blurred = gaussianBlur(result.y, sigma: 1), amount = Float(sharpening)
            for i in result.y.pixels.indices { result.y.pixels[i] += amount * (result.y.pixels[i] - blurred.pixels[i]) }
        }
        return result
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

/// Reads the scene, bilinearly, at points relative to T's calibrated field of view.
struct SceneReader {
    struct Colour {
        var y: Float
        var cb: Float
        var cr: Float
    }

    let scene: YCbCrImage
    let origin: Rect

    func read(_ z: SIMD2<Double>, shade: Float) -> Colour {
        let point = z + SIMD2(origin.x, origin.y), chroma = scene.chromaScale
        let luma = bilinear(scene.y, point.x - 0.5, point.y - 0.5)
        let (cx, cy) = (point.x * chroma.x - 0.5, point.y * chroma.y - 0.5)
        // Shading darkens luma; chroma keeps its hue, pulled towards neutral as luma falls.
        return Colour(
            y: shade * luma, cb: 0.5 + shade * (bilinear(scene.cb, cx, cy) - 0.5), cr: 0.5 + shade * (bilinear(scene.cr, cx, cy) - 0.5))
    }

    private func bilinear(_ plane: Plane, _ x: Double, _ y: Double) -> Float {
        let x = min(max(x, 0), Double(plane.width - 1)), y = min(max(y, 0), Double(plane.height - 1))
        let (x0, y0) = (Int(x), Int(y)), (x1, y1) = (min(Int(x) + 1, plane.width - 1), min(Int(y) + 1, plane.height - 1))
        let (fx, fy) = (Float(x - Double(x0)), Float(y - Double(y0)))
        let top = plane[x0, y0] + fx * (plane[x1, y0] - plane[x0, y0]), bottom = plane[x0, y1] + fx * (plane[x1, y1] - plane[x0, y1])
        return top + fy * (bottom - top)
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
