import Foundation
import HZImageIO
import HybridZoom

/// Makes the two frames a W + T rig would take of the scene in one photograph: T sees the
/// central 1/r of the view at full resolution, W sees all of it downsampled by r, so both have
/// the same pixel count, as on a real rig.
struct RigSimulator {
    let photo: YCbCrImage
    let ratio: Double
    let frameSize: Size

    /// `frameSize` defaults to the photo's size divided by `ratio`. A frame size of another aspect
    /// ratio than the photo's crops the photo to that aspect first.
    init(photo: YCbCrImage, ratio: Double, frameSize: Size? = nil) {
        self.photo = photo
        self.ratio = ratio
        self.frameSize = frameSize ?? Size(width: Int(Double(photo.size.width) / ratio) & ~1,
                                           height: Int(Double(photo.size.height) / ratio) & ~1)
    }

    /// The whole scene, in the photo's pixels, at the frames' aspect ratio.
    var scene: Rect {
        let photoWidth = Double(photo.size.width), photoHeight = Double(photo.size.height)
        let aspect = Double(frameSize.width) / Double(frameSize.height)
        let width = min(photoWidth, photoHeight * aspect), height = width / aspect
        return Rect(x: (photoWidth - width) / 2, y: (photoHeight - height) / 2, width: width, height: height)
    }

    var wide: YCbCrImage { DigitalZoom.render(photo, crop: scene, to: frameSize) }

    var tele: YCbCrImage {
        let scene = self.scene
        let crop = Rect(x: scene.midX - scene.width / ratio / 2, y: scene.midY - scene.height / ratio / 2,
                        width: scene.width / ratio, height: scene.height / ratio)
        return DigitalZoom.render(photo, crop: crop, to: frameSize)
    }

    /// EXIF for one frame: the capture time (UTC, millisecond sub-seconds), and W's or T's focal
    /// length; exposure as in the photo.
    static func exif(role: String, time: Date, focalLength: Double, like photo: EXIF) -> EXIF {
        var exif = EXIF()
        exif.make = "hzsr"
        exif.model = "simulated \(role)"
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: time)
        exif.dateTimeOriginal = String(format: "%04d:%02d:%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        let millis = Int((time.timeIntervalSince1970 * 1000).rounded()) % 1000
        exif.subSecTimeOriginal = String(format: "%03d", millis)
        exif.offsetTimeOriginal = "+00:00"
        exif.exposureTime = photo.exposureTime ?? 1.0 / 250
        exif.fNumber = photo.fNumber ?? 2.0
        exif.iso = photo.iso ?? 100
        exif.focalLength = focalLength
        return exif
    }
}
