extension EXIF {
    /// Parses an Exif APP1 payload ("Exif\0\0" and a TIFF block in either byte order), as
    /// `JPEGStructure.exifPayloadRange` locates it. Tags this type does not model are never
    /// read, so a broken maker note elsewhere in the block cannot fail the parse.
    public init(app1Payload payload: [UInt8]) throws {
        let tiff = try TIFFReader(app1Payload: payload)
        let ifd0Offset = try tiff.firstIFDOffset()
        let ifd0 = try tiff.ifd(at: ifd0Offset, name: "IFD0")
        self.init()
        make = try ifd0[.make].map(tiff.string)
        model = try ifd0[.model].map(tiff.string)
        if let value = try ifd0[.orientation].flatMap({ try tiff.integers($0).first }),
            (1...8).contains(value)
        {
            orientation = value
        }
        guard let pointer = ifd0[.exifIFDPointer],
            let exifIFDOffset = try tiff.integers(pointer).first
        else { return }
        guard exifIFDOffset != ifd0Offset else { throw EXIFError.cyclicIFD(offset: exifIFDOffset) }
        try readExifIFD(tiff.ifd(at: exifIFDOffset, name: "Exif IFD"), of: tiff)
    }

    private mutating func readExifIFD(_ ifd: IFD, of tiff: TIFFReader) throws {
        exposureTime = try ifd[.exposureTime].flatMap(tiff.rational)
        fNumber = try ifd[.fNumber].flatMap(tiff.rational)
        iso = try ifd[.photographicSensitivity].flatMap { try tiff.integers($0).first }
        dateTimeOriginal = try ifd[.dateTimeOriginal].map(tiff.string)
        offsetTimeOriginal = try ifd[.offsetTimeOriginal].map(tiff.string)
        subSecTimeOriginal = try ifd[.subSecTimeOriginal].map(tiff.string)
        focalLength = try ifd[.focalLength].flatMap(tiff.rational)
        focalLengthIn35mm = try ifd[.focalLengthIn35mmFilm].flatMap { try tiff.integers($0).first }
        subjectArea = try ifd[.subjectArea].map { entry in
            let values = try tiff.integers(entry)
            guard EXIF.subjectAreaCounts.contains(values.count) else {
                throw EXIFError.unexpectedCount(
                    tag: entry.tag, count: values.count,
                    expected: EXIF.subjectAreaCounts)
            }
            return values
        }
    }

    /// A point, a circle or a rectangle.
    static let subjectAreaCounts = 2...4
}

/// One 12-byte IFD entry: tag, type, value count, then a 4-byte field holding the values
/// themselves when they fit, else their offset.
struct IFDEntry {
    let tag: UInt16
    let type: UInt16
    let count: Int
    let fieldOffset: Int
}

struct IFD {
    let entries: [IFDEntry]

    subscript(tag: EXIFTag) -> IFDEntry? {
        entries.first { $0.tag == tag.rawValue }
    }
}

/// Bounds-checked reads of the TIFF block in an Exif APP1 payload. Offsets and counts come from
/// the file and are untrusted, so every read is checked against the block's end before it
/// happens; nothing is allocated beyond what the block itself can hold.
struct TIFFReader {
    private let payload: [UInt8]
    /// TIFF offsets count from the TIFF header, which follows "Exif\0\0".
    private let base = EXIF.payloadHeader.count
    private let isBigEndian: Bool

    private var length: Int { payload.count - base }

    init(app1Payload payload: [UInt8]) throws {
        guard payload.starts(with: EXIF.payloadHeader) else { throw EXIFError.missingExifHeader }
        self.payload = payload
        guard payload.count >= base + 8 else {
            throw EXIFError.outOfBounds(
                what: "TIFF header", offset: 0, length: 8,
                available: payload.count - base)
        }
        switch (payload[base], payload[base + 1]) {
        case (0x49, 0x49): isBigEndian = false  // "II"
        case (0x4D, 0x4D): isBigEndian = true  // "MM"
        case let (first, second):
            throw EXIFError.invalidTIFFHeader(
                "byte order \(first.hexByte) \(second.hexByte), expected II or MM")
        }
        let magic = try uint16(at: 2)
        guard magic == 42 else {
            throw EXIFError.invalidTIFFHeader("magic number \(magic), expected 42")
        }
    }

    func firstIFDOffset() throws -> Int {
        Int(try uint32(at: 4))
    }

    func ifd(at offset: Int, name: String) throws -> IFD {
        let count = Int(try uint16(at: offset))
        try requireBytes(name, at: offset, count: 2 + 12 * count)
        return IFD(
            entries: try (0..<count).map { index in
                let entryOffset = offset + 2 + 12 * index
                return IFDEntry(
                    tag: try uint16(at: entryOffset), type: try uint16(at: entryOffset + 2),
                    count: Int(try uint32(at: entryOffset + 4)), fieldOffset: entryOffset + 8)
            })
    }

    /// Text up to the first NUL, without the trailing spaces some cameras pad fields with
    /// (the Canon writes "Canon PowerShot SX530 HS ").
    func string(_ entry: IFDEntry) throws -> String {
        let start = base + (try valuesOffset(of: entry, as: .ascii))
        var text = payload[start..<start + entry.count].prefix { $0 != 0 }
        while text.last == UInt8(ascii: " ") {
            text.removeLast()
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// SHORT or LONG values: writers use either for integer tags.
    func integers(_ entry: IFDEntry) throws -> [Int] {
        let type: TIFFType = entry.type == TIFFType.long.rawValue ? .long : .short
        let start = try valuesOffset(of: entry, as: type)
        return try (0..<entry.count).map { index in
            let offset = start + index * type.size
            return type == .long ? Int(try uint32(at: offset)) : Int(try uint16(at: offset))
        }
    }

    /// The first RATIONAL value; nil for a zero denominator, which cameras write for "unknown".
    func rational(_ entry: IFDEntry) throws -> Double? {
        let start = try valuesOffset(of: entry, as: .rational)
        guard entry.count > 0 else { return nil }
        let denominator = try uint32(at: start + 4)
        return denominator == 0 ? nil : Double(try uint32(at: start)) / Double(denominator)
    }

    /// A copy of the payload with the first value of a SHORT entry overwritten in place, so
    /// every other byte stays as the camera wrote it.
    func payload(settingFirstShortOf entry: IFDEntry, to value: UInt16) throws -> [UInt8] {
        let start = base + (try valuesOffset(of: entry, as: .short))
        guard entry.count > 0 else { return payload }
        var copy = payload
        let (high, low) = (UInt8(value >> 8), UInt8(value & 0xFF))
        copy[start] = isBigEndian ? high : low
        copy[start + 1] = isBigEndian ? low : high
        return copy
    }

    /// Where an entry's values lie, after checking that it has `type` and that all its values
    /// are inside the block.
    private func valuesOffset(of entry: IFDEntry, as type: TIFFType) throws -> Int {
        guard entry.type == type.rawValue else {
            throw EXIFError.unexpectedType(tag: entry.tag, type: entry.type)
        }
        let byteCount = entry.count * type.size  // count < 2^32, so this cannot overflow
        let offset = byteCount <= 4 ? entry.fieldOffset : Int(try uint32(at: entry.fieldOffset))
        try requireBytes("the values of tag \(describeTag(entry.tag))", at: offset, count: byteCount)
        return offset
    }

    private func uint16(at offset: Int) throws -> UInt16 {
        try requireBytes("a 16-bit value", at: offset, count: 2)
        let first = UInt16(payload[base + offset])
        let second = UInt16(payload[base + offset + 1])
        return isBigEndian ? first << 8 | second : second << 8 | first
    }

    private func uint32(at offset: Int) throws -> UInt32 {
        let first = UInt32(try uint16(at: offset))
        let second = UInt32(try uint16(at: offset + 2))
        return isBigEndian ? first << 16 | second : second << 16 | first
    }

    private func requireBytes(_ what: @autoclosure () -> String, at offset: Int, count: Int) throws {
        guard offset >= 0, count <= length - offset else {
            throw EXIFError.outOfBounds(what: what(), offset: offset, length: count, available: length)
        }
    }
}
