import Foundation
import HybridZoom

/// Why a JPEG could not be read or written. Descriptions state the problem plainly and leave
/// out the file name, which the caller knows and prefixes.
public enum JPEGError: Error, Equatable, CustomStringConvertible {
    case empty
    /// The data does not start with the SOI marker; `firstBytes` are its first few bytes.
    case notJPEG(firstBytes: [UInt8])
    case truncated(String)
    case malformed(String)
    case tooManyPixels(Size, limit: Int)
    /// libjpeg's message for why it could not encode the image.
    case unencodable(String)
    /// libjpeg's message for why it could not decode the file.
    case undecodable(String)
    /// The scan data was corrupt or cut short; the decoder's warnings say how.
    case corruptData([String])
    case outOfMemory
    case unsupportedChromaSize(luma: Size, chroma: Size)
    case invalidEXIFPayload(String)

    public var description: String {
        switch self {
        case .empty:
            "empty file"
        case .notJPEG(let firstBytes):
            "not a JPEG (starts with \(firstBytes.map(\.hexByte).joined(separator: " ")))"
        case .truncated(let reason):
            "truncated: \(reason)"
        case .malformed(let reason):
            "malformed JPEG: \(reason)"
        case .tooManyPixels(let size, let limit):
            "image is \(size) (\(megapixels(size.pixelCount)) MP), above the limit of \(megapixels(limit)) MP"
        case .unencodable(let message):
            "cannot encode: \(message)"
        case .undecodable(let message):
            "cannot decode: \(message)"
        case .corruptData(let warnings):
            "corrupt scan data: \(warnings.joined(separator: "; "))"
        case .outOfMemory:
            "out of memory"
        case .unsupportedChromaSize(let luma, let chroma):
            "chroma planes of \(chroma) for luma of \(luma) match none of 4:4:4, 4:2:2 or 4:2:0"
        case .invalidEXIFPayload(let reason):
            "invalid EXIF payload: \(reason)"
        }
    }
}

private func megapixels(_ pixels: Int) -> String {
    String(format: "%.1f", Double(pixels) / 1_000_000)
}

extension UInt8 {
    /// Two upper-case hex digits, as hex dumps show bytes.
    var hexByte: String { String(format: "%02X", self) }
}
