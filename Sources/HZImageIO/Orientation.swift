import HybridZoom

extension CameraImage {
    /// The image as it should be displayed, given the EXIF orientation of its stored pixels:
    /// 2 mirrors left–right, 3 turns 180°, 4 mirrors top–bottom, 5 transposes, 6 turns 90°
    /// clockwise, 7 transverses, 8 turns 90° counter-clockwise. 1 and invalid values leave the
    /// image as it is. Chroma planes turn with luma, so 5–8 swap both planes' width and height.
    public func oriented(exifOrientation: Int) -> CameraImage {
        guard let transform = PlaneTransform(exifOrientation: exifOrientation) else { return self }
        return CameraImage(
            y: y.transformed(transform), cb: cb.transformed(transform),
            cr: cr.transformed(transform))
    }
}

/// How to read a stored plane to produce the displayed one: output pixel (x, y) comes from
/// stored pixel (y, x) when `transposes`, else (x, y), with that column then counted from the
/// right when `mirrorsColumns` and that row counted from the bottom when `mirrorsRows`.
private struct PlaneTransform {
    let transposes: Bool
    let mirrorsColumns: Bool
    let mirrorsRows: Bool

    init?(exifOrientation: Int) {
        switch exifOrientation {
        case 2: (transposes, mirrorsColumns, mirrorsRows) = (false, true, false)
        case 3: (transposes, mirrorsColumns, mirrorsRows) = (false, true, true)
        case 4: (transposes, mirrorsColumns, mirrorsRows) = (false, false, true)
        case 5: (transposes, mirrorsColumns, mirrorsRows) = (true, false, false)
        case 6: (transposes, mirrorsColumns, mirrorsRows) = (true, false, true)
        case 7: (transposes, mirrorsColumns, mirrorsRows) = (true, true, true)
        case 8: (transposes, mirrorsColumns, mirrorsRows) = (true, true, false)
        default: return nil
        }
    }
}

extension BytePlane {
    /// The stored index of output pixel (x, y) is `origin + x * xStep + y * yStep`, so the loop
    /// walks the source with two additions per pixel.
    fileprivate func transformed(_ transform: PlaneTransform) -> BytePlane {
        let columnStep = transform.mirrorsColumns ? -1 : 1
        let rowStep = transform.mirrorsRows ? -width : width
        let origin =
            (transform.mirrorsColumns ? width - 1 : 0)
            + (transform.mirrorsRows ? (height - 1) * width : 0)
        let (xStep, yStep) = transform.transposes ? (rowStep, columnStep) : (columnStep, rowStep)
        let (outputWidth, outputHeight) = transform.transposes ? (height, width) : (width, height)
        let output = pixels.withUnsafeBufferPointer { source in
            [UInt8](unsafeUninitializedCapacity: source.count) { output, count in
                for y in 0..<outputHeight {
                    var sourceIndex = origin + y * yStep
                    for x in 0..<outputWidth {
                        output[y * outputWidth + x] = source[sourceIndex]
                        sourceIndex += xStep
                    }
                }
                count = source.count
            }
        }
        return BytePlane(width: outputWidth, height: outputHeight, pixels: output)
    }
}
