import Foundation
import Testing

@testable import OCPP

@Suite("RFC 3339 date-times")
struct RFC3339Tests {
    @Test(arguments: [
        ("2024-05-01T10:00:00Z", 1_714_557_600.0),
        ("2024-05-01T10:00:00.5Z", 1_714_557_600.5),
        ("2024-05-01T10:00:00.123456789Z", 1_714_557_600.123456789),
        ("2024-05-01T12:00:00+02:00", 1_714_557_600.0),
        ("2024-05-01T05:30:00-04:30", 1_714_557_600.0),
        ("2024-05-01t10:00:00z", 1_714_557_600.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.000Z", -1),
        ("2016-12-31T23:59:60Z", 1_483_228_800.0),
    ])
    func parsesValidTimestamps(text: String, secondsSince1970: Double) throws {
        let date = try #require(RFC3339.parse(text))
        #expect(abs(date.timeIntervalSince1970 - secondsSince1970) < 1e-6)
    }

    @Test(arguments: [
        "2024-05-01T10:00:00", "2024-05-01 10:00:00Z", "2024-13-01T10:00:00Z", "2024-00-01T10:00:00Z",
        "2023-02-29T10:00:00Z", "2024-04-31T10:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T10:60:00Z",
        "2024-05-01T10:00:61Z", "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00+0200", "2024-05-01T10:00:00+24:00",
        "2024-5-1T10:00:00Z", "24-05-01T10:00:00Z", "2024-05-01T10:00Z", "2024-05-01T10:00:00Zjunk", "",
        "yesterday",
    ])
    func refusesInvalidTimestamps(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test(arguments: [
        (1_714_557_600.123, "2024-05-01T10:00:00.123Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (-0.5, "1969-12-31T23:59:59.500Z"),
        (951_782_400, "2000-02-29T00:00:00.000Z"),
        (253_402_300_799.999, "9999-12-31T23:59:59.999Z"),
    ])
    func formatsInUTCWithMilliseconds(secondsSince1970: Double, expected: String) {
        #expect(RFC3339.format(Date(timeIntervalSince1970: secondsSince1970)) == expected)
    }

    @Test func formattingRoundTripsAtMillisecondPrecision() throws {
        for milliseconds in stride(from: Int64(-86_400_000), to: 4_102_444_800_000, by: 7_777_777_777) {
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = RFC3339.format(date)
            let parsed = try #require(RFC3339.parse(text))
            #expect(RFC3339.format(parsed) == text)
            #expect(abs(parsed.timeIntervalSince1970 - date.timeIntervalSince1970) < 1e-6)
        }
    }

    /// Found by the frame fuzzer: an offset that moves the instant before year 0 (or
    /// past 9999) used to parse, and writing it back trapped and took the gateway down.
    /// Year 0 too: PostgreSQL refuses `0000-01-01` ("date/time field value out of
    /// range"), so a worker could not read such a date back from the journal.
    @Test(arguments: [
        "0000-01-01T00:00:00Z", "0000-06-15T12:00:00+02:00", "0001-01-01T00:00:00+00:01",
        "9999-12-31T23:59:59-00:01", "9999-12-31T23:59:59.9999Z",
    ])
    func refusesInstantsOutsideTheYearsOneTo9999(text: String) {
        #expect(RFC3339.parse(text) == nil)
        #expect(RFC3339.parse(text, tolerant: true) == nil)
    }

    @Test func theEdgesOfTheYearsOneTo9999RoundTrip() throws {
        for text in ["0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"] {
            #expect(RFC3339.format(try #require(RFC3339.parse(text))) == text)
        }
    }

    @Test func formattingNeverTraps() {
        for seconds in [-1e15, -62_167_219_201.0, 253_402_300_800.0, 1e15, .infinity, -.infinity, .nan] {
            _ = RFC3339.format(Date(timeIntervalSince1970: seconds))
        }
    }

    // MARK: Offsets

    /// Any offset RFC 3339 allows, even beyond what PostgreSQL's own parser takes
    /// (±15:59): the instant is converted to UTC here.
    @Test(arguments: [
        ("2026-12-06T16:00:00+17:17", "2026-12-05T22:43:00.000Z"),
        ("2026-12-06T16:00:00-23:59", "2026-12-07T15:59:00.000Z"),
        ("2026-12-06T16:00:00+00:00", "2026-12-06T16:00:00.000Z"),
        ("2026-12-06T16:00:00.123456789-00:30", "2026-12-06T16:30:00.123Z"),
    ])
    func convertsEveryOffsetToUTC(text: String, utc: String) throws {
        #expect(RFC3339.format(try #require(RFC3339.parse(text))) == utc)
    }

    // MARK: Tolerant reading

    @Test(arguments: [
        ("2026-12-06T16:00:00", "2026-12-06T16:00:00.000Z", ToleratedQuirk.timestampWithoutOffset),
        ("2026-12-06T16:00:00.5", "2026-12-06T16:00:00.500Z", .timestampWithoutOffset),
        ("2026-12-06T16:00:00+02", "2026-12-06T14:00:00.000Z", .shortTimestampOffset),
        ("2026-12-06T16:00:00-0330", "2026-12-06T19:30:00.000Z", .shortTimestampOffset),
    ])
    func tolerantReadingAcceptsWhatChargersSend(text: String, utc: String, quirk: ToleratedQuirk) throws {
        #expect(RFC3339.parse(text) == nil)
        let parsed = try #require(RFC3339.parse(text, tolerant: true))
        #expect(RFC3339.format(parsed.date) == utc)
        #expect(parsed.quirk == quirk)
    }

    @Test(arguments: ["2026-12-06T16:00:00+2", "2026-12-06T16:00:00+02:0", "2026-12-06T16:00:00+0260", "2026-12-06"])
    func tolerantReadingStillRefusesTheRest(text: String) {
        #expect(RFC3339.parse(text, tolerant: true) == nil)
    }
}
