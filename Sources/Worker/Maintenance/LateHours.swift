import Foundation
import Logging
import PostgresNIO

/// The hours of `ocpp.meter_values_late_hours` (0018): on TimescaleDB, the hours that
/// received values after the continuous aggregate's policy stopped refreshing them
/// (values that arrived days late). The plain path never lists any: its rollup
/// recomputes every stale hour itself.
enum LateHours {
    /// Refreshes the aggregate over each run of adjacent listed hours, and forgets
    /// the hours once refreshed. Needs a connection in autocommit, and the rollup
    /// job's lock: the hours are listed only under it, so none is added to a range
    /// between its refresh and its removal.
    static func refresh(on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            "SELECT bucket FROM ocpp.meter_values_late_hours ORDER BY bucket", logger: logger)
        var hours: [Date] = []
        for try await hour in rows.decode(Date.self) { hours.append(hour) }
        for range in ranges(of: hours) {
            do {
                // A procedure that commits as it goes: it refuses a transaction block.
                _ = try await connection.query(
                    """
                    CALL refresh_continuous_aggregate('ocpp.meter_values_hourly', \(range.lowerBound)::timestamptz,
                                                      \(range.upperBound)::timestamptz)
                    """, logger: logger
                ).collect()
                _ = try await connection.query(
                    """
                    DELETE FROM ocpp.meter_values_late_hours
                    WHERE bucket >= \(range.lowerBound) AND bucket < \(range.upperBound)
                    """, logger: logger
                ).collect()
                logger.info("hourly aggregate refreshed for values that arrived late: \(range)")
            } catch {
                // The hours stay listed; the next run tries again, and the other ranges go on.
                logger.warning("hourly aggregate refresh of \(range) failed: \(String(reflecting: error))")
            }
        }
    }

    /// Sorted hour starts as ranges of adjacent hours, each ending an hour after its last.
    static func ranges(of hours: [Date]) -> [Range<Date>] {
        var ranges: [Range<Date>] = []
        for hour in hours {
            let end = hour + 3600
            if let last = ranges.last, last.upperBound == hour {
                ranges[ranges.count - 1] = last.lowerBound..<end
            } else {
                ranges.append(hour..<end)
            }
        }
        return ranges
    }
}
