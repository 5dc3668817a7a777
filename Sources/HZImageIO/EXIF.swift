import Foundation

/// The EXIF fields the pipeline uses: camera identity, capture time, exposure and lens.
public struct EXIF: Sendable, Equatable {
    public var make: String?
    public var model: String?
    /// "YYYY:MM:DD HH:MM:SS", in the camera's local time.
    public var dateTimeOriginal: String?
    /// Decimal digits of the fraction of a second: "5" is 0.5 s, "095" is 0.095 s.
    public var subSecTimeOriginal: String?
    /// The camera's UTC offset at capture, such as "+02:00".
    public var offsetTimeOriginal: String?
    /// Seconds.
    public var exposureTime: Double?
    public var fNumber: Double?
    /// PhotographicSensitivity (0x8827).
    public var iso: Int?
    /// Millimetres.
    public var focalLength: Double?
    /// Millimetres; 0 means unknown, as some phones write it.
    public var focalLengthIn35mm: Int?
    /// 1…8 as in the EXIF standard; a file's invalid value reads as 1.
    public var orientation: Int
    /// Where the subject is (0x9214): a point (x, y), a circle (x, y, d) or a rectangle
    /// (x, y, width, height), in stored-image pixels.
    public var subjectArea: [Int]?

    public init(
        make: String? = nil, model: String? = nil, dateTimeOriginal: String? = nil,
        subSecTimeOriginal: String? = nil, offsetTimeOriginal: String? = nil,
        exposureTime: Double? = nil, fNumber: Double? = nil, iso: Int? = nil,
        focalLength: Double? = nil, focalLengthIn35mm: Int? = nil, orientation: Int = 1,
        subjectArea: [Int]? = nil
    ) {
        self.make = make
        self.model = model
        self.dateTimeOriginal = dateTimeOriginal
        self.subSecTimeOriginal = subSecTimeOriginal
        self.offsetTimeOriginal = offsetTimeOriginal
        self.exposureTime = exposureTime
        self.fNumber = fNumber
        self.iso = iso
        self.focalLength = focalLength
        self.focalLengthIn35mm = focalLengthIn35mm
        self.orientation = orientation
        self.subjectArea = subjectArea
    }

    /// Every Exif APP1 payload starts with these six bytes, followed by a TIFF block.
    static let payloadHeader: [UInt8] = Array("Exif\0\0".utf8)
}

extension EXIF {
    /// The capture instant from DateTimeOriginal, refined by SubSecTimeOriginal and placed in
    /// time by OffsetTimeOriginal, or by `defaultTimeZone` when the camera wrote no offset.
    /// Nil when DateTimeOriginal is missing or not a valid date; an unreadable sub-second or
    /// offset field is ignored rather than discarding the whole time.
    public func captureTime(defaultTimeZone: TimeZone) -> Date? {
        guard let components = dateTimeOriginal.flatMap(parseEXIFDateTime) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = offsetTimeOriginal.flatMap(parseUTCOffset) ?? defaultTimeZone
        guard components.isValidDate(in: calendar), let date = calendar.date(from: components) else {
            return nil
        }
        return date.addingTimeInterval(subSecTimeOriginal.flatMap(parseSubSecond) ?? 0)
    }
}

/// "YYYY:MM:DD HH:MM:SS"; cameras with an unset clock write blanks, which give nil.
private func parseEXIFDateTime(_ text: String) -> DateComponents? {
    let chars = Array(text.utf8)
    guard chars.count == 19, [4, 7, 13, 16].allSatisfy({ chars[$0] == UInt8(ascii: ":") }),
        chars[10] == UInt8(ascii: " "),
        let year = decimalNumber(chars[0..<4]), let month = decimalNumber(chars[5..<7]),
        let day = decimalNumber(chars[8..<10]), let hour = decimalNumber(chars[11..<13]),
        let minute = decimalNumber(chars[14..<16]), let second = decimalNumber(chars[17..<19])
    else { return nil }
    return DateComponents(
        year: year, month: month, day: day,
        hour: hour, minute: minute, second: second)
}

/// "+HH:MM" or "-HH:MM".
private func parseUTCOffset(_ text: String) -> TimeZone? {
    let chars = Array(text.utf8)
    guard chars.count == 6, chars[3] == UInt8(ascii: ":"),
        let hours = decimalNumber(chars[1..<3]), let minutes = decimalNumber(chars[4..<6])
    else { return nil }
    let seconds = (hours * 60 + minutes) * 60
    switch chars[0] {
    case UInt8(ascii: "+"): return TimeZone(secondsFromGMT: seconds)
    case UInt8(ascii: "-"): return TimeZone(secondsFromGMT: -seconds)
    default: return nil
    }
}

/// The digits are what follows the decimal point, so leading zeros matter ("095" is 0.095);
/// the standard lets cameras pad the field with trailing spaces.
private func parseSubSecond(_ text: String) -> TimeInterval? {
    var digits = Array(text.utf8)
    while digits.last == UInt8(ascii: " ") {
        digits.removeLast()
    }
    guard !digits.isEmpty, digits.allSatisfy(isASCIIDigit) else { return nil }
    return TimeInterval("0." + String(decoding: digits, as: UTF8.self))
}

private func decimalNumber(_ chars: ArraySlice<UInt8>) -> Int? {
    guard chars.allSatisfy(isASCIIDigit) else { return nil }
    return chars.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
}

private func isASCIIDigit(_ char: UInt8) -> Bool {
    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(char)
}
