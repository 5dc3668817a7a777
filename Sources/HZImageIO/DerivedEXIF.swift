/// A camera's Exif APP1 payload made fit for an image derived from its frame upright: the
/// Orientation tag says 1 (the pixels were turned), and the thumbnail (IFD1) is unlinked, since
/// it shows the whole stored frame, unturned. Both are patched in place rather than
/// re-serialised, so every other tag, maker notes included, is carried over byte for byte.
public func derivedEXIFPayload(from payload: [UInt8]) throws(EXIFError) -> [UInt8] {
    let tiff = try TIFFReader(app1Payload: payload)
    let ifd0 = try tiff.ifd(at: tiff.firstIFDOffset(), name: "IFD0")
    var derived = payload
    if let orientation = ifd0[.orientation] {
        try tiff.setFirstShort(of: orientation, to: 1, in: &derived)
    }
    try? tiff.setLong(at: ifd0.nextIFDLinkOffset, to: 0, in: &derived)  // a block cut short after IFD0 links nothing
    return derived
}
