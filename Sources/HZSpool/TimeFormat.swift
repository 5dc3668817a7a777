import Foundation

/// The few ways the spool writes times: ISO 8601 in records, and the day folder and pair id,
/// which read in the rig's configured time zone so they match what operators see on the cameras.
public enum TimeFormat {
    private static let iso = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// `2026-09-21T14:13:20.260Z`, to the nearest millisecond. Not the formatter's: it
    /// truncates, and a time rounded to .260 is a double a little below it, so it wrote .259.
    public static func iso8601(_ date: Date) -> String {
        let c = components(date, utc)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year!, c.month!, c.day!,
            c.hour!, c.minute!, c.second!, (c.nanosecond! + 500_000) / 1_000_000)
    }

    private static let utc = TimeZone(identifier: "UTC")!

    public static func parseISO8601(_ text: String) -> Date? { try? iso.parse(text) }

    /// `2020-06-08`
    public static func day(_ date: Date, in zone: TimeZone) -> String {
        let c = components(date, zone)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    /// `20200608-111613.868`: sorts by capture time and names the moment to the millisecond.
    public static func compactStamp(_ date: Date, in zone: TimeZone) -> String {
        let c = components(date, zone)
        return String(
            format: "%04d%02d%02d-%02d%02d%02d.%03d", c.year!, c.month!, c.day!,
            c.hour!, c.minute!, c.second!, (c.nanosecond! + 500_000) / 1_000_000)
    }

    private static func components(_ date: Date, _ zone: TimeZone) -> DateComponents {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        // Round to whole milliseconds first, so that nanoseconds read back as exact milliseconds.
        let millis = (date.timeIntervalSince1970 * 1000).rounded() / 1000
        return calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second, .nanosecond],
            from: Date(timeIntervalSince1970: millis))
    }
}
