import Foundation
import NIOCore
import PostgresNIO

/// A `timestamptz` as PostgreSQL holds it: whole microseconds since 2000-01-01 UTC.
///
/// Binds and reads in binary without going through a `Date`'s binary fraction, which
/// PostgresNIO truncates (a millisecond such as .123 would come back as .122999).
public struct PostgresTimestamp: Sendable, Hashable, Comparable {
    public var microsecondsSince2000: Int64

    public init(microsecondsSince2000: Int64) {
        self.microsecondsSince2000 = microsecondsSince2000
    }

    /// `date` rounded to the nearest microsecond, as PostgreSQL reads a date-time
    /// with more digits. Dates the protocol core reads (years 1 to 9999) always fit;
    /// any other is held to the range rather than trapping.
    public init(_ date: Date) {
        let microseconds = (date.timeIntervalSinceReferenceDate * 1_000_000).rounded()
        let bounded = microseconds.isNaN ? 0 : max(-Self.limit, min(Self.limit, microseconds))
        microsecondsSince2000 = Int64(bounded) + Self.referenceDateSince2000
    }

    /// The start of this instant's hour (UTC), as `date_trunc('hour', t, 'UTC')`.
    public var hour: PostgresTimestamp {
        let remainder = microsecondsSince2000 % Self.microsecondsPerHour
        // Floored, not truncated: an hour before 2000 starts further back.
        let start = microsecondsSince2000 - (remainder < 0 ? remainder + Self.microsecondsPerHour : remainder)
        return PostgresTimestamp(microsecondsSince2000: start)
    }

    public var date: Date {
        Date(timeIntervalSinceReferenceDate: Double(microsecondsSince2000 - Self.referenceDateSince2000) / 1_000_000)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.microsecondsSince2000 < rhs.microsecondsSince2000 }

    /// 2001-01-01 (Foundation's reference date) in microseconds since 2000-01-01 (a leap year).
    public static let referenceDateSince2000: Int64 = 366 * 86_400 * 1_000_000
    public static let microsecondsPerHour: Int64 = 3_600_000_000
    /// Far beyond year 9999 and far inside Int64.
    private static let limit = 1e18
}

extension PostgresTimestamp: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    public static var psqlType: PostgresDataType { .timestamptz }
    public static var psqlFormat: PostgresFormat { .binary }
    public static var psqlArrayType: PostgresDataType { .timestamptzArray }

    public func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeInteger(microsecondsSince2000)
    }

    public init<JSONDecoder: PostgresJSONDecoder>(
        from buffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat,
        context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        guard type == .timestamptz || type == .timestamp, format == .binary, buffer.readableBytes == 8,
            let microseconds = buffer.readInteger(as: Int64.self)
        else { throw PostgresDecodingError.Code.typeMismatch }
        microsecondsSince2000 = microseconds
    }
}
