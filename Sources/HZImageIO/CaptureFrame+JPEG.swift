import HybridZoom

extension CaptureFrame {
    /// The frame as the pipeline reads it: the decoded picture, the exposure and the focus
    /// point its EXIF records.
    public init(_ decoded: DecodedJPEG) {
        let exif = decoded.exif
        self.init(
            image: decoded.image,
            exposure: ExposureSettings(exposureTime: exif.exposureTime, fNumber: exif.fNumber, iso: exif.iso.map(Double.init)),
            focusRegion: decoded.focusRegion)
    }
}

extension DecodedJPEG {
    /// Where the camera focused, as fractions of the frame, from EXIF SubjectArea: a point (given
    /// the size of `BlendInputs.centralRegion`), a circle or a rectangle, in stored pixels. Only
    /// for upright frames, whose stored and shown pixels agree; nil otherwise.
    public var focusRegion: Rect? {
        let stored = storedSize
        guard let area = exif.subjectArea, area.count >= 2, exif.orientation == 1, stored.width > 0, stored.height > 0 else {
            return nil
        }
        let centre = BlendInputs.centralRegion
        let (areaWidth, areaHeight): (Double, Double) =
            switch area.count {
            case 2: (centre.width, centre.height)
            case 3: (Double(area[2]) / Double(stored.width), Double(area[2]) / Double(stored.height))
            default: (Double(area[2]) / Double(stored.width), Double(area[3]) / Double(stored.height))
            }
        // The file may claim an area larger than the frame.
        let (width, height) = (min(areaWidth, 1), min(areaHeight, 1))
        let x = Double(area[0]) / Double(stored.width), y = Double(area[1]) / Double(stored.height)
        return Rect(
            x: (x - width / 2).clamped(to: 0...(1 - width)), y: (y - height / 2).clamped(to: 0...(1 - height)),
            width: width, height: height)
    }
}
