import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared

/// The group-commit statement: one batch of work items made durable in one SQL
/// statement, i.e. one transaction and one round trip (invariant 2).
///
/// The batch travels column by column as binary arrays, unpacked by `UNNEST ...
/// WITH ORDINALITY` (`ord` counts from 1), and data-modifying CTEs do the rest in
/// one snapshot:
/// 1. `starts` allocates transaction ids for StartTransaction content keys from the
///    sequence (invariant 4). The no-op `DO UPDATE` makes `RETURNING` yield the
///    existing id too, also for a start another gateway committed a moment ago.
/// 2. `prepared` puts the transaction id into the response.
/// 3. `receipts` records one receipt per (station, action, digest) of the
///    transaction-related CALLs (the only items with a digest), the first copy of
///    the batch, `ON CONFLICT DO NOTHING`: a key it returns is new (invariant 3).
/// 4. `inserted` writes the inbox rows of every other CALL, of the keyed CALLs that
///    are new (first copy, new receipt) and of every connect/disconnect event.
/// 5. `notified` wakes the workers once per batch, in the same transaction.
/// 6. The final SELECT answers per `ord`: an unkeyed item gets its own, fresh
///    response; a new keyed CALL its response; a second copy in the batch the first
///    copy's; a keyed CALL whose receipt existed the stored response, looked up by
///    primary key. If that receipt is not visible, because another gateway's
///    transaction inserted it after this statement's snapshot (`ON CONFLICT` waited
///    for it to commit), `resolved` is false and the item must be written again in a
///    later batch, whose snapshot will see it.
///
/// Payloads arrive as JSON text and are stored as `json`, which PostgreSQL only
/// checks; the worker converts them to `jsonb` once when it applies them, off the
/// acknowledgement path (migration 0011).
///
/// Locks are taken in key order (ORDER BY in each INSERT ... SELECT) so that two
/// gateways writing overlapping keys do not deadlock.
struct IngestBatchStatement: PostgresPreparedStatement {
    /// ord (from 0), response (jsonb as text), is duplicate, resolved.
    typealias Row = (Int32, String?, Bool, Bool)

    static let sql = """
        WITH items AS MATERIALIZED (
            SELECT i.ord, i.station_id, i.kind, i.action, i.message_id, i.digest, i.payload,
                   i.response::jsonb AS response, i.station_time, i.received_at,
                   i.start_connector_id, i.start_id_tag, i.start_started_at, i.start_meter_start,
                   i.digest IS NOT NULL AS keyed
            FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::text[],
                        $8::timestamptz[], $9::timestamptz[], $10::integer[], $11::text[], $12::timestamptz[],
                        $13::bigint[])
                 WITH ORDINALITY AS i(station_id, kind, action, message_id, digest, payload, response,
                                      station_time, received_at, start_connector_id, start_id_tag,
                                      start_started_at, start_meter_start, ord)
        ), starts AS (
            INSERT INTO ocpp.transaction_starts AS t (station_id, connector_id, id_tag, started_at, meter_start)
            SELECT DISTINCT station_id, start_connector_id, start_id_tag, start_started_at, start_meter_start
            FROM items
            WHERE kind = 'call' AND start_connector_id IS NOT NULL
            ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (station_id, connector_id, id_tag, started_at, meter_start)
                DO UPDATE SET meter_start = excluded.meter_start
            RETURNING t.station_id, t.connector_id, t.id_tag, t.started_at, t.meter_start, t.transaction_id
        ), prepared AS (
            SELECT i.*,
                   CASE WHEN s.transaction_id IS NULL THEN i.response
                        ELSE jsonb_set(coalesce(i.response, '{}'::jsonb), '{transactionId}',
                                       to_jsonb(s.transaction_id))
                   END AS final_response
            FROM items AS i
            LEFT JOIN starts AS s
              ON s.station_id = i.station_id AND s.connector_id = i.start_connector_id
             AND s.id_tag = i.start_id_tag AND s.started_at = i.start_started_at
             AND s.meter_start = i.start_meter_start
        ), firsts AS (
            SELECT DISTINCT ON (station_id, action, digest)
                   ord, station_id, action, digest, final_response, received_at
            FROM prepared
            WHERE keyed
            ORDER BY station_id, action, digest, ord
        ), receipts AS (
            INSERT INTO ocpp.inbox_receipts (station_id, action, payload_digest, response, received_at)
            SELECT station_id, action, digest, final_response, received_at
            FROM firsts
            ORDER BY station_id, action, digest
            ON CONFLICT (station_id, action, payload_digest) DO NOTHING
            RETURNING station_id, action, payload_digest
        ), classified AS (
            SELECT p.*, f.ord AS first_ord, f.final_response AS first_response,
                   r.station_id IS NOT NULL AS receipt_is_new
            FROM prepared AS p
            LEFT JOIN firsts AS f
              ON p.keyed AND f.station_id = p.station_id AND f.action = p.action AND f.digest = p.digest
            LEFT JOIN receipts AS r
              ON p.keyed AND r.station_id = p.station_id AND r.action = p.action AND r.payload_digest = p.digest
        ), inserted AS (
            INSERT INTO ocpp.inbox (received_at, gateway_id, station_id, kind, action, message_id,
                                    payload_digest, payload, response, station_time)
            SELECT received_at, $14::text, station_id, kind, action, message_id,
                   digest, payload::json, final_response, station_time
            FROM classified
            WHERE NOT keyed OR (receipt_is_new AND first_ord = ord)
            ORDER BY ord
            RETURNING 1
        ), notified AS (
            SELECT pg_notify('ocpp_inbox', $14::text)
            FROM (SELECT 1 FROM inserted LIMIT 1) AS any_row
        )
        SELECT (c.ord - 1)::integer,
               (CASE WHEN NOT c.keyed THEN c.final_response
                     WHEN c.receipt_is_new THEN c.first_response
                     ELSE stored.response
                END)::text AS response,
               c.keyed AND NOT (c.receipt_is_new AND c.first_ord = c.ord) AS is_duplicate,
               NOT c.keyed OR c.receipt_is_new OR stored.found IS NOT NULL AS resolved
        FROM classified AS c
        -- LATERAL keeps this a primary-key probe per retransmission whatever the
        -- generic plan's row estimates (a plain join could become a scan).
        LEFT JOIN LATERAL (
            SELECT r.response, true AS found
            FROM ocpp.inbox_receipts AS r
            WHERE c.keyed AND NOT c.receipt_is_new AND r.station_id = c.station_id
              AND r.action = c.action AND r.payload_digest = c.digest
        ) AS stored ON true
        CROSS JOIN (SELECT count(*) FROM notified) AS notifications
        ORDER BY c.ord
        """

    var items: [WorkItem]
    var gatewayID: String

    init(items: some Collection<WorkItem>, gatewayID: String) {
        self.items = Array(items)
        self.gatewayID = gatewayID
    }

    /// One array per column, in the items' order.
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 14)
        bindings.append(items.map(\.stationID))
        bindings.append(items.map(\.kind.rawValue))
        bindings.append(NullableArray(items.map(\.action)))
        bindings.append(NullableArray(items.map(\.messageID)))
        bindings.append(NullableArray(items.map { $0.payloadDigest.map { ByteBuffer(bytes: $0) } }))
        bindings.append(NullableArray(items.map(\.payloadJSON)))
        bindings.append(NullableArray(items.map { $0.response.map(Self.json) }))
        bindings.append(NullableArray(items.map { $0.stationTime.map(RoundedTimestamp.init) }))
        bindings.append(items.map { RoundedTimestamp($0.receivedAt) })
        bindings.append(NullableArray(items.map(\.transactionStart?.connectorID)))
        bindings.append(NullableArray(items.map(\.transactionStart?.idTag)))
        bindings.append(NullableArray(items.map { $0.transactionStart.map { RoundedTimestamp($0.startedAt) } }))
        bindings.append(NullableArray(items.map { $0.transactionStart.map { Int64($0.meterStart) } }))
        bindings.append(gatewayID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }

    private static func json(_ object: JSONObject) -> String {
        var writer = JSONWriter()
        writer.value(.object(object))
        return writer.string
    }

    /// Writes the batch and returns one result per item, in the items' order.
    static func run(
        _ items: some Collection<WorkItem>, gatewayID: String, client: PostgresClient, logger: Logger
    ) async throws -> [IngestItemResult] {
        let statement = IngestBatchStatement(items: items, gatewayID: gatewayID)
        var results = [IngestItemResult?](repeating: nil, count: items.count)
        for try await (ord, responseText, isDuplicate, resolved) in try await client.execute(statement, logger: logger)
        {
            let index = Int(ord)
            guard results.indices.contains(index) else {
                throw IngestStatementError(reason: "the batch statement returned an unknown ord \(ord)")
            }
            guard resolved else {
                results[index] = .unresolved
                continue
            }
            results[index] = .committed(
                IngestOutcome(response: try parseResponse(responseText), isDuplicate: isDuplicate))
        }
        return try results.enumerated().map { ord, result in
            guard let result else {
                throw IngestStatementError(reason: "the batch statement returned no row for ord \(ord)")
            }
            return result
        }
    }

    private static func parseResponse(_ text: String?) throws -> JSONObject? {
        guard let text else { return nil }
        switch try JSONParser.parse(text) {
        case .object(let object): return object
        case .null: return nil
        default: throw IngestStatementError(reason: "a stored response is not a JSON object")
        }
    }
}

/// What the batch statement says about one item.
enum IngestItemResult: Sendable, Equatable {
    /// The item's row is committed (or, for a retransmission, was committed before):
    /// this answer may be sent.
    case committed(IngestOutcome)
    /// Another transaction wrote the same receipt and committed after this
    /// statement began, so its answer was not visible: write the item again.
    case unresolved
}

/// The batch statement's answer did not have the expected shape.
struct IngestStatementError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
