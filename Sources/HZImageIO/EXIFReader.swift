extension EXIF {
    /// Parses an Exif APP1 payload ("Exif\0\0" and a TIFF block in either byte order), as
    /// `JPEGStructure.exifPayloadRange` locates it. Tags this type does not model are never
    /// read, so a broken maker note elsewhere in the block cannot fail the parse.
    ///
    /// Throws only when the block itself cannot be read (its header, or IFD0). A tag that does
    /// not fit (its type, its count, or its values past the block's end), or an unreadable Exif
    /// IFD, is left unknown and its problem added to `problems`: one broken field never costs
    /// the others, least of all the orientation that decides how the pixels are turned.
    public init(app1Payload payload: [UInt8], problems: inout [EXIFError]) throws(EXIFError) {
        let tiff = try TIFFReader(app1Payload: payload)
        let ifd0Offset = try tiff.firstIFDOffset()
        let ifd0 = try tiff.ifd(at: ifd0Offset, name: "IFD0")
        self.init()
        /// The entry's value, or nil with its problem noted.
        func tolerantly<Value>(_ entry: IFDEntry?, _ read: (IFDEntry) throws(EXIFError) -> Value?) -> Value? {
            guard let entry else { return nil }
            do {
                return try read(entry)
            } catch {
                problems.append(error)
                return nil
            }
        }
        if let value = tolerantly(ifd0[.orientation], tiff.firstInteger), (1...8).contains(value) {
            orientation = value
        }
        make = tolerantly(ifd0[.make], tiff.string)
        model = tolerantly(ifd0[.model], tiff.string)
        guard let exifIFDOffset = tolerantly(ifd0[.exifIFDPointer], tiff.firstInteger) else { return }
        guard exifIFDOffset != ifd0Offset else {
            problems.append(.cyclicIFD(offset: exifIFDOffset))
            return
        }
        let ifd: IFD
        do {
            ifd = try tiff.ifd(at: exifIFDOffset, name: "Exif IFD")
        } catch {
            problems.append(error)
            return
        }
        exposureTime = tolerantly(ifd[.exposureTime], tiff.rational)
        fNumber = tolerantly(ifd[.fNumber], tiff.rational)
        iso = tolerantly(ifd[.photographicSensitivity], tiff.firstInteger)
        dateTimeOriginal = tolerantly(ifd[.dateTimeOriginal], tiff.string)
        offsetTimeOriginal = tolerantly(ifd[.offsetTimeOriginal], tiff.string)
        subSecTimeOriginal = tolerantly(ifd[.subSecTimeOriginal], tiff.string)
        focalLength = tolerantly(ifd[.focalLength], tiff.rational)
        focalLengthIn35mm = tolerantly(ifd[.focalLengthIn35mmFilm], tiff.firstInteger)
        subjectArea = tolerantly(ifd[.subjectArea], tiff.subjectArea)
    }

    /// The same, where only what could be read matters (a timestamp for pairing).
    public init(app1Payload payload: [UInt8]) throws(EXIFError) {
        var problems: [EXIFError] = []
        try self.init(app1Payload: payload, problems: &problems)
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
    /// Where the offset of the next IFD lies, after the entries (0 there ends the chain).
    let nextIFDLinkOffset: Int
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

    init(app1Payload payload: [UInt8]) throws(EXIFError) {
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

    func firstIFDOffset() throws(EXIFError) -> Int {
        Int(try uint32(at: 4))
    }

    func ifd(at offset: Int, name: String) throws(EXIFError) -> IFD {
        let count = Int(try uint16(at: offset))
        try requireBytes(name, at: offset, count: 2 + 12 * count)
        return IFD(
            nextIFDLinkOffset: offset + 2 + 12 * count,
            entries: try (0..<count).map { index throws(EXIFError) in
                let entryOffset = offset + 2 + 12 * index
                return IFDEntry(
                    tag: try uint16(at: entryOffset), type: try uint16(at: entryOffset + 2),
                    count: Int(try uint32(at: entryOffset + 4)), fieldOffset: entryOffset + 8)
            })
    }

    /// Text up to the first NUL, without the trailing spaces some cameras pad fields with
    /// (the Canon writes "Canon PowerShot SX530 HS ").
    func string(_ entry: IFDEntry) throws(EXIFError) -> String {
        let start = base + (try valuesOffset(of: entry, as: .ascii))
        var text = payload[start..<start + entry.count].prefix { $0 != 0 }
        while text.last == UInt8(ascii: " ") {
            text.removeLast()
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// SHORT or LONG values: writers use either for integer tags.
    func integers(_ entry: IFDEntry) throws(EXIFError) -> [Int] {
        let type: TIFFType = entry.type == TIFFType.long.rawValue ? .long : .short
        let start = try valuesOffset(of: entry, as: type)
        return try (0..<entry.count).map { index throws(EXIFError) in
            let offset = start + index * type.size
            return type == .long ? Int(try uint32(at: offset)) : Int(try uint16(at: offset))
        }
    }

    func firstInteger(_ entry: IFDEntry) throws(EXIFError) -> Int? {
        try integers(entry).first
    }

    /// SubjectArea's 2, 3 or 4 values: a point, a circle or a rectangle.
    func subjectArea(_ entry: IFDEntry) throws(EXIFError) -> [Int] {
        let values = try integers(entry)
        guard EXIF.subjectAreaCounts.contains(values.count) else {
            throw EXIFError.unexpectedCount(tag: entry.tag, count: values.count, expected: EXIF.subjectAreaCounts)
        }
        return values
    }

    /// The first RATIONAL value; nil for a zero denominator, which cameras write for "unknown".
    func rational(_ entry: IFDEntry) throws(EXIFError) -> Double? {
        let start = try valuesOffset(of: entry, as: .rational)
        guard entry.count > 0 else { return nil }
        let denominator = try uint32(at: start + 4)
        return denominator == 0 ? nil : Double(try uint32(at: start)) / Double(denominator)
    }

    /// Overwrites the first value of a SHORT entry in `payload` (this block's bytes).
    func setFirstShort(of entry: IFDEntry, to value: UInt16, in payload: inout [UInt8]) throws(EXIFError) {
        let start = try valuesOffset(of: entry, as: .short)
        guard entry.count > 0 else { return }
        write([UInt8(value >> 8), UInt8(value & 0xFF)], at: start, in: &payload)
    }

    /// Overwrites the 32-bit value at `offset` in `payload` (this block's bytes).
    func setLong(at offset: Int, to value: UInt32, in payload: inout [UInt8]) throws(EXIFError) {
        try requireBytes("a 32-bit value", at: offset, count: 4)
        write(stride(from: 24, through: 0, by: -8).map { UInt8(value >> UInt32($0) & 0xFF) }, at: offset, in: &payload)
    }

    /// Bytes given most significant first, written in the block's byte order.
    private func write(_ bytes: [UInt8], at offset: Int, in payload: inout [UInt8]) {
        for (index, byte) in (isBigEndian ? bytes : bytes.reversed()).enumerated() {
            payload[base + offset + index] = byte
        }
    }

    /// Where an entry's values lie, after checking that it has `type` and that all its values
    /// are inside the block.
    private func valuesOffset(of entry: IFDEntry, as type: TIFFType) throws(EXIFError) -> Int {
        guard entry.type == type.rawValue else {
            throw EXIFError.unexpectedType(tag: entry.tag, type: entry.type)
        }
        let byteCount = entry.count * type.size  // count < 2^32, so this cannot overflow
        let offset = byteCount <= 4 ? entry.fieldOffset : Int(try uint32(at: entry.fieldOffset))
        try requireBytes("the values of tag \(describeTag(entry.tag))", at: offset, count: byteCount)
        return offset
    }

    private func uint16(at offset: Int) throws(EXIFError) -> UInt16 {
        try requireBytes("a 16-bit value", at: offset, count: 2)
        let first = UInt16(payload[base + offset])
        let second = UInt16(payload[base + offset + 1])
        return isBigEndian ? first << 8 | second : second << 8 | first
    }

    private func uint32(at offset: Int) throws(EXIFError) -> UInt32 {
        let first = UInt32(try uint16(at: offset))
        let second = UInt32(try uint16(at: offset + 2))
        return isBigEndian ? first << 16 | second : second << 16 | first
    }

    private func requireBytes(_ what: @autoclosure () -> String, at offset: Int, count: Int) throws(EXIFError) {
        guard offset >= 0, count <= length - offset else {
            throw EXIFError.outOfBounds(what: what(), offset: offset, length: count, available: length)
        }
    }
}
