import Foundation

/// RFC 3339 date-times, the `date-time` format of the OCPP schemas.
///
/// Reading accepts any number of fractional digits and any UTC offset
/// (`2024-05-01T10:00:00.123456+02:00`, `...Z`, lower-case `t`/`z` too) and refuses
/// everything else, including a missing offset. Writing is always UTC with
/// milliseconds and `Z` (`2024-05-01T08:00:00.123Z`), the form every charger reads.
///
/// Only instants from year 1 to year 9999 (in UTC) are read: the form written back
/// has four-digit years, and PostgreSQL reads no year 0 (`0000-...` is 1 BC to it),
/// so every date-time a station sends can be stored and read back as sent.
public enum RFC3339 {
    /// A date-time as read, and the quirk tolerant reading accepted to read it.
    public struct Parsed: Sendable, Hashable {
        public var date: Date
        public var quirk: ToleratedQuirk?
    }

    /// Strict RFC 3339.
    public static func parse(_ text: String) -> Date? {
        parse(text, tolerant: false)?.date
    }

    /// RFC 3339; when `tolerant`, also without an offset (read as UTC) or with an
    /// offset of hours only (`+02`) or without its colon (`+0200`).
    public static func parse(_ text: String, tolerant: Bool) -> Parsed? {
        var text = text
        return text.withUTF8 { parse(bytes: $0, tolerant: tolerant) }
    }

    /// The instants four-digit years from 1 can write: 0001-01-01T00:00:00.000Z up
    /// to 9999-12-31T23:59:59.999Z, in milliseconds since 1970.
    static let earliestMillisecond = daysSinceEpoch(year: 1, month: 1, day: 1) * 86_400_000
    static let latestMillisecond = daysSinceEpoch(year: 10_000, month: 1, day: 1) * 86_400_000 - 1

    public static func format(_ date: Date) -> String {
        // Rounded, not truncated: a Date is a binary fraction, so .123 may be stored as .12299...
        // `parse` never yields an instant outside four-digit years; any other Date is
        // held to them rather than trapping (a station's timestamp must never stop the
        // process).
        let exact = (date.timeIntervalSince1970 * 1000).rounded()
        let milliseconds =
            exact.isNaN
            ? 0
            : Int64(max(Double(earliestMillisecond), min(Double(latestMillisecond), exact)))
        let (days, millisecondOfDay) = milliseconds.quotientAndRemainderFlooring(by: 86_400_000)
        let (year, month, day) = civilDate(fromDaysSinceEpoch: days)
        let hour = millisecondOfDay / 3_600_000
        let minute = millisecondOfDay / 60_000 % 60
        let second = millisecondOfDay / 1000 % 60
        let millisecond = millisecondOfDay % 1000
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendDigits(year, count: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(hour, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(minute, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(second, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDigits(millisecond, count: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Parsing

    private static func parse(bytes: UnsafeBufferPointer<UInt8>, tolerant: Bool) -> Parsed? {
        var cursor = 0
        func number(_ count: Int) -> Int64? {
            guard cursor + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<count {
                let byte = bytes[cursor]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
                cursor += 1
            }
            return value
        }
        func expect(_ characters: UInt8...) -> Bool {
            guard cursor < bytes.count, characters.contains(bytes[cursor]) else { return false }
            cursor += 1
            return true
        }

        guard let year = number(4), expect(UInt8(ascii: "-")),
            let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2), expect(UInt8(ascii: "T"), UInt8(ascii: "t")),
            let hour = number(2), expect(UInt8(ascii: ":")),
            let minute = number(2), expect(UInt8(ascii: ":")),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }

        var fraction = 0.0
        if cursor < bytes.count, bytes[cursor] == UInt8(ascii: ".") {
            cursor += 1
            var scale = 0.1
            let firstDigit = cursor
            while cursor < bytes.count, bytes[cursor] >= UInt8(ascii: "0"), bytes[cursor] <= UInt8(ascii: "9") {
                fraction += Double(bytes[cursor] - UInt8(ascii: "0")) * scale
                scale /= 10
                cursor += 1
            }
            guard cursor > firstDigit else { return nil }
        }

        var offsetSeconds: Int64 = 0
        var quirk: ToleratedQuirk?
        if cursor == bytes.count {
            // No offset at all: local time of an unknown zone; tolerated as UTC.
            guard tolerant else { return nil }
            quirk = .timestampWithoutOffset
        } else {
            switch bytes[cursor] {
            case UInt8(ascii: "Z"), UInt8(ascii: "z"):
                cursor += 1
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                let sign: Int64 = bytes[cursor] == UInt8(ascii: "-") ? -1 : 1
                cursor += 1
                guard let offsetHours = number(2), offsetHours <= 23 else { return nil }
                var offsetMinutes: Int64 = 0
                if expect(UInt8(ascii: ":")) {
                    guard let minutes = number(2) else { return nil }
                    offsetMinutes = minutes
                } else {
                    // `+02` or `+0200`: ISO 8601's short forms, not RFC 3339's.
                    guard tolerant else { return nil }
                    quirk = .shortTimestampOffset
                    if cursor < bytes.count {
                        guard let minutes = number(2) else { return nil }
                        offsetMinutes = minutes
                    }
                }
                guard offsetMinutes <= 59 else { return nil }
                offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
            default:
                return nil
            }
        }
        guard cursor == bytes.count else { return nil }

        let days = daysSinceEpoch(year: year, month: month, day: day)
        // A leap second (:60) reads as the first instant of the next minute.
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        // The offset can move a time just outside the years that can be written
        // (0001-01-01T00:00:00+00:01); such an instant cannot be written back.
        let milliseconds = ((Double(seconds) + fraction) * 1000).rounded()
        guard milliseconds >= Double(earliestMillisecond), milliseconds <= Double(latestMillisecond) else { return nil }
        return Parsed(date: Date(timeIntervalSince1970: Double(seconds) + fraction), quirk: quirk)
    }

    // MARK: Calendar arithmetic (proleptic Gregorian, days since 1970-01-01)

    private static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's `days_from_civil`.
    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Howard Hinnant's `civil_from_days`.
    private static func civilDate(fromDaysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func appendDigits(_ value: Int64, count: Int, to bytes: inout [UInt8]) {
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: count)
        var remaining = value
        for position in stride(from: count - 1, through: 0, by: -1) {
            digits[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
        }
        bytes.append(contentsOf: digits)
    }
}

extension Int64 {
    /// Division rounding towards negative infinity, so dates before 1970 format right.
    fileprivate func quotientAndRemainderFlooring(by divisor: Int64) -> (Int64, Int64) {
        var (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}
