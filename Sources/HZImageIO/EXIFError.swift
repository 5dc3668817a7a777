import Foundation

/// Why an Exif APP1 payload could not be read. Descriptions name the problem and where it is.
public enum EXIFError: Error, Equatable, CustomStringConvertible {
    /// The payload does not start with "Exif\0\0".
    case missingExifHeader
    case invalidTIFFHeader(String)
    /// `what` needs `length` bytes at `offset` in a TIFF block of only `available` bytes.
    case outOfBounds(what: String, offset: Int, length: Int, available: Int)
    /// The Exif IFD pointer leads back to IFD0.
    case cyclicIFD(offset: Int)
    case unexpectedType(tag: UInt16, type: UInt16)
    case unexpectedCount(tag: UInt16, count: Int, expected: ClosedRange<Int>)

    public var description: String {
        switch self {
        case .missingExifHeader:
            "EXIF: APP1 payload does not start with \"Exif\\0\\0\""
        case .invalidTIFFHeader(let reason):
            "EXIF: invalid TIFF header: \(reason)"
        case .outOfBounds(let what, let offset, let length, let available):
            "EXIF: \(what) at offset \(offset) needs \(length) bytes, past the end of the "
                + "\(available)-byte TIFF block"
        case .cyclicIFD(let offset):
            "EXIF: the Exif IFD pointer leads back to IFD0 at offset \(offset)"
        case .unexpectedType(let tag, let type):
            "EXIF: tag \(describeTag(tag)) has field type \(type), which does not fit it"
        case .unexpectedCount(let tag, let count, let expected):
            "EXIF: tag \(describeTag(tag)) has \(count) values, expected \(expected.lowerBound) "
                + "to \(expected.upperBound)"
        }
    }
}

/// The tag in hex, with its name when this module knows it.
func describeTag(_ tag: UInt16) -> String {
    let hex = String(format: "0x%04X", tag)
    return EXIFTag(rawValue: tag).map { "\(hex) (\($0))" } ?? hex
}
