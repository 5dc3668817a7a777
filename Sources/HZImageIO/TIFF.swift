/// The TIFF field types of the EXIF tags this module reads and writes.
enum TIFFType: UInt16 {
    case ascii = 2
    case short = 3
    case long = 4
    case rational = 5
    case undefined = 7

    /// Bytes per value.
    var size: Int {
        switch self {
        case .ascii, .undefined: 1
        case .short: 2
        case .long: 4
        case .rational: 8
        }
    }
}

/// The EXIF tags this module reads or writes: the first four live in IFD0, the rest in the
/// Exif IFD that `exifIFDPointer` leads to.
enum EXIFTag: UInt16 {
    case make = 0x010F
    case model = 0x0110
    case orientation = 0x0112
    case exifIFDPointer = 0x8769
    case exposureTime = 0x829A
    case fNumber = 0x829D
    case photographicSensitivity = 0x8827
    case exifVersion = 0x9000
    case dateTimeOriginal = 0x9003
    case offsetTimeOriginal = 0x9011
    case focalLength = 0x920A
    case subjectArea = 0x9214
    case subSecTimeOriginal = 0x9291
    case focalLengthIn35mmFilm = 0xA405
}
