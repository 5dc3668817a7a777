extension EXIF {
    /// A minimal Exif APP1 payload holding every field that is set: "Exif\0\0", then a
    /// little-endian TIFF block with IFD0 (Make, Model, Orientation, the Exif IFD pointer) and
    /// the Exif IFD (ExifVersion and the capture fields). Used to stamp synthetic frames.
    ///
    /// ISO and 35 mm focal length saturate at 65535, as the standard says for SHORT fields.
    /// Negative or non-finite rationals and a SubjectArea of other than 2–4 values are
    /// programming errors.
    public func app1Payload() -> [UInt8] {
        var ifd0 = ifd0Fields + [TIFFField(.exifIFDPointer, long: 0)]
        // The pointer's value does not change IFD0's size, so the Exif IFD's offset is known
        // before IFD0 is written.
        let exifIFDOffset = TIFFWriter.firstIFDOffset + TIFFWriter.size(ofIFD: ifd0)
        ifd0[ifd0.count - 1] = TIFFField(.exifIFDPointer, long: UInt32(exifIFDOffset))
        var tiff = TIFFWriter()
        tiff.appendIFD(ifd0)
        tiff.appendIFD(exifIFDFields)
        return EXIF.payloadHeader + tiff.bytes
    }

    private var ifd0Fields: [TIFFField] {
        [
            make.map { TIFFField(.make, ascii: $0) },
            model.map { TIFFField(.model, ascii: $0) },
            TIFFField(.orientation, shorts: [UInt16(clamping: orientation)]),
        ].compactMap { $0 }
    }

    private var exifIFDFields: [TIFFField] {
        [
            TIFFField(.exifVersion, undefined: Array("0232".utf8)),
            exposureTime.map { TIFFField(.exposureTime, rational: exifRational($0, reciprocal: true)) },
            fNumber.map { TIFFField(.fNumber, rational: exifRational($0)) },
            iso.map { TIFFField(.photographicSensitivity, shorts: [UInt16(clamping: $0)]) },
            dateTimeOriginal.map { TIFFField(.dateTimeOriginal, ascii: $0) },
            offsetTimeOriginal.map { TIFFField(.offsetTimeOriginal, ascii: $0) },
            focalLength.map { TIFFField(.focalLength, rational: exifRational($0)) },
            subjectArea.map { area in
                precondition(
                    EXIF.subjectAreaCounts.contains(area.count),
                    "SubjectArea needs 2 to 4 values, got \(area.count)")
                return TIFFField(.subjectArea, shorts: area.map { UInt16(clamping: $0) })
            },
            subSecTimeOriginal.map { TIFFField(.subSecTimeOriginal, ascii: $0) },
            focalLengthIn35mm.map { TIFFField(.focalLengthIn35mmFilm, shorts: [UInt16(clamping: $0)]) },
        ].compactMap { $0 }
    }
}

/// A fraction for a non-negative value. Exposure times under a second become 1/N when that is
/// exact, as cameras write them; otherwise the denominator is the smallest power of ten that
/// gives back `value` exactly, or 10^6 (or the largest that fits) when none does.
private func exifRational(
    _ value: Double, reciprocal: Bool = false
)
    -> (numerator: UInt32, denominator: UInt32)
{
    let largest = Double(UInt32.max)
    precondition(
        value.isFinite && value >= 0 && value < largest,
        "\(value) does not fit an EXIF RATIONAL")
    if reciprocal, value > 0, value < 1 {
        let denominator = (1 / value).rounded()
        if denominator <= largest, 1 / denominator == value {
            return (1, UInt32(denominator))
        }
    }
    var denominator = 1.0
    while (value * denominator).rounded() / denominator != value, denominator < 1_000_000,
        (value * denominator * 10).rounded() <= largest
    {
        denominator *= 10
    }
    return (UInt32((value * denominator).rounded()), UInt32(denominator))
}

/// One IFD entry to write, its values already encoded little-endian.
struct TIFFField {
    let tag: EXIFTag
    let type: TIFFType
    let count: Int
    let values: [UInt8]

    private init(_ tag: EXIFTag, _ type: TIFFType, count: Int, values: [UInt8]) {
        self.tag = tag
        self.type = type
        self.count = count
        self.values = values
    }

    init(_ tag: EXIFTag, ascii text: String) {
        let values = Array(text.utf8) + [0]
        self.init(tag, .ascii, count: values.count, values: values)
    }

    init(_ tag: EXIFTag, undefined bytes: [UInt8]) {
        self.init(tag, .undefined, count: bytes.count, values: bytes)
    }

    init(_ tag: EXIFTag, shorts: [UInt16]) {
        self.init(tag, .short, count: shorts.count, values: shorts.flatMap(littleEndianBytes))
    }

    init(_ tag: EXIFTag, long: UInt32) {
        self.init(tag, .long, count: 1, values: littleEndianBytes(long))
    }

    init(_ tag: EXIFTag, rational: (numerator: UInt32, denominator: UInt32)) {
        self.init(
            tag, .rational, count: 1,
            values: littleEndianBytes(rational.numerator) + littleEndianBytes(rational.denominator))
    }

    /// Values of up to 4 bytes sit in the entry itself; longer ones go after the IFD, padded to
    /// an even length because TIFF offsets are word-aligned.
    var isInline: Bool { values.count <= 4 }
    var outOfLineSize: Int { isInline ? 0 : values.count + values.count % 2 }
}

/// Builds a little-endian TIFF block, IFD after IFD, each followed by its out-of-line values.
struct TIFFWriter {
    static let firstIFDOffset = 8

    private(set) var bytes: [UInt8] =
        Array("II".utf8) + littleEndianBytes(UInt16(42)) + littleEndianBytes(UInt32(firstIFDOffset))

    /// Entry count, entries, next-IFD offset, then the out-of-line values.
    static func size(ofIFD fields: [TIFFField]) -> Int {
        2 + 12 * fields.count + 4 + fields.reduce(0) { $0 + $1.outOfLineSize }
    }

    /// Appends an IFD that has no successor, with its entries sorted by tag as TIFF requires.
    mutating func appendIFD(_ fields: [TIFFField]) {
        let sorted = fields.sorted { $0.tag.rawValue < $1.tag.rawValue }
        let valuesStart = bytes.count + 2 + 12 * sorted.count + 4
        var outOfLineValues: [UInt8] = []
        bytes += littleEndianBytes(UInt16(sorted.count))
        for field in sorted {
            bytes +=
                littleEndianBytes(field.tag.rawValue) + littleEndianBytes(field.type.rawValue)
                + littleEndianBytes(UInt32(field.count))
            if field.isInline {
                bytes += field.values + [UInt8](repeating: 0, count: 4 - field.values.count)
            } else {
                bytes += littleEndianBytes(UInt32(valuesStart + outOfLineValues.count))
                outOfLineValues += field.values + [UInt8](repeating: 0, count: field.values.count % 2)
            }
        }
        bytes += littleEndianBytes(UInt32(0)) + outOfLineValues
    }
}

private func littleEndianBytes(_ value: some FixedWidthInteger) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian, Array.init)
}
