import Foundation
import NIOCore
import PostgresNIO

/// A `timestamptz` bind rounded to the nearest microsecond.
///
/// PostgresNIO's own `Date` encoding truncates, and a station's `…00.123Z` parsed
/// into a `Date` is a hair below .123 in binary floating point, so it would be
/// stored as .122999. Rounding keeps the station's timestamp exactly as sent.
struct RoundedTimestamp: PostgresNonThrowingEncodable, PostgresArrayEncodable {
    var date: Date

    init(_ date: Date) {
        self.date = date
    }

    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }
    static var psqlArrayType: PostgresDataType { .timestamptzArray }

    /// Microseconds since 2000-01-01 00:00:00 UTC, PostgreSQL's epoch.
    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        let microseconds = (date.timeIntervalSince(Self.postgresEpoch) * 1_000_000).rounded()
        // Dates from the wire are years 1 to 9999 (RFC3339), far inside 64 bits; the
        // bounds keep any other Date from trapping in the conversion.
        buffer.writeInteger(Int64(exactly: microseconds) ?? (microseconds < 0 ? .min : .max))
    }

    private static let postgresEpoch = Date(timeIntervalSince1970: 946_684_800)
}
