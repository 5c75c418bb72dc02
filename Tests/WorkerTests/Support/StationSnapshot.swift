import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport

@testable import Worker

/// What the handlers left for one station, normalized so that two stations fed the
/// same history can be compared: no surrogate ids, no station identity, no
/// bookkeeping times that a charger's retry legitimately moves (the receive time of
/// the first copy applied, last seen, updated at), and transactions named by their
/// start key (connector, id tag, start time, meterStart) rather than by the id the
/// sequence happened to hand out.
///
/// Each table is a list of canonical `jsonb` texts in a fixed order, so a difference
/// prints as the first rows that differ.
struct StationSnapshot: Equatable, Sendable {
    var tables: [String: [String]]

    /// The queries, `$1` being the station id; each returns one `jsonb` text column.
    static let queries: [(table: String, sql: String)] = [
        (
            "stations",
            """
            SELECT (to_jsonb(s) - 'id' - 'identity' - 'created_at' - 'updated_at' - 'last_seen_at')::text
            FROM ocpp.stations AS s WHERE s.id = $1
            """
        ),
        (
            // status_received_at is the receive time of whichever copy of the newest
            // status was applied last: a retry (later receive time) moves it.
            "connectors",
            """
            SELECT (to_jsonb(c) - 'station_id' - 'updated_at' - 'status_received_at')::text
            FROM ocpp.connectors AS c WHERE c.station_id = $1 ORDER BY c.connector_id
            """
        ),
        (
            "transactions",
            """
            SELECT (to_jsonb(t) - 'id' - 'station_id' - 'updated_at')::text
            FROM ocpp.transactions AS t WHERE t.station_id = $1
            ORDER BY t.started_at, t.connector_id, t.id_tag, t.meter_start
            """
        ),
        (
            "meter_values",
            """
            SELECT (to_jsonb(m) - 'station_id' - 'received_at' - 'transaction_id'
                    || jsonb_build_object('transaction', \(startKey("m.transaction_id"))))::text
            FROM ocpp.meter_values AS m
            LEFT JOIN ocpp.transaction_starts AS s
              ON s.station_id = m.station_id AND s.transaction_id = m.transaction_id
            WHERE m.station_id = $1
            ORDER BY m.sampled_at, m.connector_id, m.measurand, m.phase, m.location, m.context, m.format
            """
        ),
        (
            "status_events",
            """
            SELECT (to_jsonb(e) - 'id' - 'station_id' - 'received_at')::text
            FROM ocpp.status_events AS e WHERE e.station_id = $1
            ORDER BY e.connector_id, e.status_at, e.status, e.error_code
            """
        ),
        (
            // One event per work row: the content, as a multiset.
            "station_events",
            """
            SELECT jsonb_build_object('action', e.action, 'payload', e.payload, 'response', e.response,
                                      'station_time', e.station_time)::text AS event
            FROM ocpp.station_events AS e WHERE e.station_id = $1
            ORDER BY event
            """
        ),
    ]

    /// The start key of a transaction (`s` being its `transaction_starts` row), or
    /// `unknown` for an id never allocated for the station.
    private static func startKey(_ transactionID: String) -> String {
        """
        CASE WHEN \(transactionID) IS NULL THEN NULL
             WHEN s.transaction_id IS NULL THEN 'unknown'
             ELSE concat_ws('/', s.connector_id, s.id_tag, s.started_at, s.meter_start) END
        """
    }

    static func take(of station: Int64, in fixture: InboxFixture) async throws -> StationSnapshot {
        var tables: [String: [String]] = [:]
        for (table, sql) in queries {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(station)
            tables[table] = try await fixture.texts(PostgresQuery(unsafeSQL: sql, binds: bindings))
        }
        return StationSnapshot(tables: tables)
    }

    func count(_ table: String) -> Int { tables[table]?.count ?? 0 }

    /// The first difference per table, for a failure message.
    func differences(from expected: StationSnapshot) -> String {
        var lines: [String] = []
        for (table, _) in Self.queries {
            let mine = tables[table] ?? []
            let theirs = expected.tables[table] ?? []
            guard mine != theirs else { continue }
            lines.append("\(table): \(mine.count) rows, expected \(theirs.count)")
            let common = min(mine.count, theirs.count)
            let index = (0..<common).first { mine[$0] != theirs[$0] } ?? common
            lines.append("  row \(index) is       \(index < mine.count ? mine[index] : "(none)")")
            lines.append("  row \(index) expected \(index < theirs.count ? theirs[index] : "(none)")")
        }
        return lines.joined(separator: "\n")
    }
}

extension InboxFixture {
    /// The rows of a SELECT as JSON objects keyed by column name (`to_jsonb` of each
    /// row: timestamps come as RFC 3339 text, see ``JSONValue/date``).
    func rows(_ query: PostgresQuery) async throws -> [JSONValue] {
        let wrapped = PostgresQuery(
            unsafeSQL: "SELECT to_jsonb(q)::text FROM (\(query.sql)) AS q", binds: query.binds)
        return try await texts(wrapped).map { try JSONParser.parse($0) }
    }

    /// The one row of a SELECT as a JSON object; fails when there is not exactly one.
    func row(_ query: PostgresQuery) async throws -> JSONValue {
        let rows = try await rows(query)
        guard rows.count == 1 else { throw UnexpectedRowCount(count: rows.count, sql: query.sql) }
        return rows[0]
    }

    /// How many rows a SELECT returns.
    func count(_ query: PostgresQuery) async throws -> Int {
        let wrapped = PostgresQuery(unsafeSQL: "SELECT count(*) FROM (\(query.sql)) AS q", binds: query.binds)
        return Int(try await client.scalar(wrapped, as: Int64.self))
    }

    /// The first column of every row, as text.
    func texts(_ query: PostgresQuery) async throws -> [String] {
        let rows = try await client.query(query, logger: TestDatabase.logger)
        var texts: [String] = []
        for try await text in rows.decode(String.self) {
            texts.append(text)
        }
        return texts
    }

    /// Applies rows a second time, by id, in a transaction of their own: the same
    /// journal row claimed twice, which the cursors prevent, and which the handlers
    /// must not care about all the same (invariant 5, the belt to the cursors'
    /// braces).
    func reprocess(_ ids: [Int64]) async throws {
        let rows = try await client.query(
            "SELECT id, station_id, received_at, kind, action FROM ocpp.inbox WHERE id = ANY(\(ids)) ORDER BY id",
            logger: TestDatabase.logger)
        var claimed = ClaimedRows()
        for try await (id, station, receivedAt, kind, action) in rows.decode(
            (Int64, Int64, PostgresTimestamp, String, String?).self)
        {
            claimed.append(id: id, stationID: station, receivedAt: receivedAt, kind: kind, action: action)
        }
        let batch = claimed.batch
        let handlers = applier().handlers
        try await client.withTransaction(logger: TestDatabase.logger) { connection in
            for handler in handlers where handler.applies(to: batch) {
                try await handler.apply(batch, on: connection, logger: TestDatabase.logger)
            }
        }
    }

    /// Moves the cursor of the bucket of row `id` to it, as if a worker had applied
    /// everything of that bucket up to it.
    func markApplied(through id: Int64) async throws {
        try await client.query(
            """
            UPDATE ocpp.inbox_buckets AS b SET cursor_txid = i.txid, cursor_id = i.id
            FROM ocpp.inbox AS i WHERE i.id = \(id) AND b.bucket = ocpp.inbox_bucket(i.station_id)
            """, logger: TestDatabase.logger)
    }
}

extension InboxFixture.Row {
    /// A CALL row from JSON values rather than text.
    static func call(
        _ action: String, json payload: JSONValue, response: JSONValue = [:], stationTime: Date? = nil,
        receivedAt: Date
    ) -> Self {
        .call(
            action, payload.jsonText, response: response.jsonText, stationTime: stationTime, receivedAt: receivedAt)
    }

    /// The same CALL as a charger's retry: the same content under a new message id,
    /// received later.
    func retried(after delay: TimeInterval = 5) -> Self {
        var copy = self
        copy.messageID = UUID().uuidString
        copy.receivedAt = receivedAt.addingTimeInterval(delay)
        return copy
    }

    /// A connect or disconnect event row of a session, as the gateway writes it.
    static func presence(
        _ kind: String, session: UUID, connectedAt: Date, gateway: String = "g", receivedAt: Date
    ) -> Self {
        let payload: JSONValue = [
            "sessionId": .string(session.uuidString.lowercased()), "gatewayId": .string(gateway),
            "connectedAt": .string(RFC3339.format(connectedAt)),
        ]
        return Self(
            kind: kind, action: nil, messageID: nil, payload: payload.jsonText, response: nil, stationTime: nil,
            receivedAt: receivedAt)
    }
}

struct UnexpectedRowCount: Error, CustomStringConvertible {
    var count: Int
    var sql: String
    var description: String { "expected one row, got \(count): \(sql)" }
}

/// Whole-second test times from a fixed origin, so that what Postgres returns compares
/// exactly.
enum TestTime {
    static let origin = Date(timeIntervalSince1970: 1_748_772_000)  // 2025-06-01T10:00:00Z

    static func at(_ seconds: Int) -> Date { origin.addingTimeInterval(TimeInterval(seconds)) }
}
