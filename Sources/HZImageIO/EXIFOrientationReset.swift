/// A copy of a camera's Exif APP1 payload whose Orientation tag says 1 (upright), for an output
/// whose pixels have already been turned upright. The value is patched in place rather than
/// re-serialised, so every other tag, maker notes included, is carried over byte for byte.
/// A payload without an Orientation tag comes back unchanged.
public func resettingOrientation(inEXIFPayload payload: [UInt8]) throws -> [UInt8] {
    let tiff = try TIFFReader(app1Payload: payload)
    let ifd0 = try tiff.ifd(at: tiff.firstIFDOffset(), name: "IFD0")
    guard let entry = ifd0[.orientation] else { return payload }
    return try tiff.payload(settingFirstShortOf: entry, to: 1)
}
