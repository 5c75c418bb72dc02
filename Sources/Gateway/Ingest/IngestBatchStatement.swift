import Foundation
import Logging
import PostgresNIO
import Shared

/// The group-commit statement: one batch of work items made durable in one SQL
/// statement, i.e. one transaction and one round trip (invariant 2).
///
/// The whole batch travels as one `jsonb` bind, unpacked by `jsonb_to_recordset`
/// (so nullable columns need no array workaround), and data-modifying CTEs do the
/// rest in one snapshot:
/// 1. `starts` allocates transaction ids for StartTransaction content keys from the
///    sequence (invariant 4). The no-op `DO UPDATE` makes `RETURNING` yield the
///    existing id too, also for a start another gateway committed a moment ago.
/// 2. `prepared` puts the transaction id into the response.
/// 3. `receipts` records one receipt per (station, message id, digest), the first
///    copy of the batch, `ON CONFLICT DO NOTHING`: a key it returns is new
///    (invariant 3).
/// 4. `inserted` writes the inbox rows of the new CALLs (first copy, new receipt)
///    and of every connect/disconnect event.
/// 5. `notified` wakes the workers once per batch, in the same transaction.
/// 6. The final SELECT answers per `ord`: a new CALL gets its response; a second
///    copy in the batch gets the first copy's response; a CALL whose receipt
///    existed gets the stored response. If that receipt is not visible, because
///    another gateway's transaction inserted it after this statement's snapshot
///    (`ON CONFLICT` waited for it to commit), `resolved` is false and the item must
///    be written again in a later batch, whose snapshot will see it.
///
/// Locks are taken in key order (ORDER BY in each INSERT ... SELECT) so that two
/// gateways writing overlapping keys do not deadlock.
struct IngestBatchStatement: PostgresPreparedStatement {
    /// ord, response (jsonb as text), is duplicate, resolved.
    typealias Row = (Int32, String?, Bool, Bool)

    static let sql = """
        WITH items AS (
            SELECT i.ord, i.station_id, i.kind, i.action, i.message_id, decode(i.digest, 'hex') AS digest,
                   i.payload, i.response, i.station_time, i.received_at,
                   i.start_connector_id, i.start_id_tag, i.start_started_at, i.start_meter_start
            FROM jsonb_to_recordset($1::text::jsonb) AS i(
                ord integer, station_id bigint, kind text, action text, message_id text, digest text,
                payload jsonb, response jsonb, station_time timestamptz, received_at timestamptz,
                start_connector_id integer, start_id_tag text, start_started_at timestamptz,
                start_meter_start bigint)
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
            SELECT DISTINCT ON (station_id, message_id, digest)
                   ord, station_id, message_id, digest, final_response, received_at
            FROM prepared
            WHERE kind = 'call'
            ORDER BY station_id, message_id, digest, ord
        ), receipts AS (
            INSERT INTO ocpp.inbox_receipts (station_id, message_id, payload_digest, response, received_at)
            SELECT station_id, message_id, digest, final_response, received_at
            FROM firsts
            ORDER BY station_id, message_id, digest
            ON CONFLICT (station_id, message_id, payload_digest) DO NOTHING
            RETURNING station_id, message_id, payload_digest
        ), classified AS (
            SELECT p.*, f.ord AS first_ord, f.final_response AS first_response,
                   r.station_id IS NOT NULL AS receipt_is_new
            FROM prepared AS p
            LEFT JOIN firsts AS f
              ON p.kind = 'call' AND f.station_id = p.station_id AND f.message_id = p.message_id
             AND f.digest = p.digest
            LEFT JOIN receipts AS r
              ON p.kind = 'call' AND r.station_id = p.station_id AND r.message_id = p.message_id
             AND r.payload_digest = p.digest
        ), inserted AS (
            INSERT INTO ocpp.inbox (received_at, gateway_id, station_id, kind, action, message_id,
                                    payload_digest, payload, response, station_time)
            SELECT received_at, $2::text, station_id, kind, action, message_id,
                   digest, payload, final_response, station_time
            FROM classified
            WHERE kind <> 'call' OR (receipt_is_new AND first_ord = ord)
            ORDER BY ord
            RETURNING 1
        ), notified AS (
            SELECT pg_notify('ocpp_inbox', $2::text)
            FROM (SELECT 1 FROM inserted LIMIT 1) AS any_row
        )
        SELECT c.ord,
               (CASE WHEN c.kind <> 'call' THEN c.final_response
                     WHEN c.receipt_is_new THEN c.first_response
                     ELSE stored.response
                END)::text AS response,
               c.kind = 'call' AND NOT (c.receipt_is_new AND c.first_ord = c.ord) AS is_duplicate,
               c.kind <> 'call' OR c.receipt_is_new OR stored.station_id IS NOT NULL AS resolved
        FROM classified AS c
        LEFT JOIN ocpp.inbox_receipts AS stored
          ON c.kind = 'call' AND NOT c.receipt_is_new AND stored.station_id = c.station_id
         AND stored.message_id = c.message_id AND stored.payload_digest = c.digest
        CROSS JOIN (SELECT count(*) FROM notified) AS notifications
        ORDER BY c.ord
        """

    /// The batch as a JSON array (see ``encode(_:)``).
    var batch: String
    var gatewayID: String

    init(items: some Collection<WorkItem>, gatewayID: String) {
        self.batch = Self.encode(items)
        self.gatewayID = gatewayID
    }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(batch)
        bindings.append(gatewayID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }

    /// The batch as the statement's `jsonb` bind: one object per item, `ord` being
    /// its position. Absent values are left out (they read as NULL).
    static func encode(_ items: some Collection<WorkItem>) -> String {
        var writer = JSONWriter(reservingCapacity: 256 * items.count + 2)
        writer.beginArray()
        for (ord, item) in items.enumerated() {
            writer.beginObject()
            writer.key("ord")
            writer.integer(ord)
            writer.key("station_id")
            writer.integer(item.stationID)
            writer.key("kind")
            writer.string(item.kind.rawValue)
            if let action = item.action {
                writer.key("action")
                writer.string(action)
            }
            if let messageID = item.messageID {
                writer.key("message_id")
                writer.string(messageID)
            }
            if let digest = item.payloadDigest {
                writer.key("digest")
                writer.string(hex(digest))
            }
            if let payload = item.payload {
                writer.key("payload")
                writer.value(.object(payload))
            }
            if let response = item.response {
                writer.key("response")
                writer.value(.object(response))
            }
            if let stationTime = item.stationTime {
                writer.key("station_time")
                writer.string(RFC3339.format(stationTime))
            }
            writer.key("received_at")
            writer.string(RFC3339.format(item.receivedAt))
            if let start = item.transactionStart {
                writer.key("start_connector_id")
                writer.integer(start.connectorID)
                writer.key("start_id_tag")
                writer.string(start.idTag)
                writer.key("start_started_at")
                writer.string(RFC3339.format(start.startedAt))
                writer.key("start_meter_start")
                writer.integer(start.meterStart)
            }
            writer.endObject()
        }
        writer.endArray()
        return writer.string
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
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
