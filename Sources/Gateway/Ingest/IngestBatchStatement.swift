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
/// 2. `prepared` completes StartTransaction's answer: the gateway encoded it once
///    around the id (``EncodedResponse``), as `response` (the text before the id)
///    and `response_tail` (after it); the answer is `response || id || tail`, text
///    joined to text, nothing parsed. Every other answer is `response` as sent.
/// 3. `receipts` records one receipt per (station, action, digest) of the
///    transaction-related CALLs (the only items with a digest), the first copy of
///    the batch, `ON CONFLICT DO NOTHING`: a key it returns is new (invariant 3).
/// 4. `inserted` writes the inbox rows of every other CALL, of the keyed CALLs that
///    are new (first copy, new receipt) and of every connect/disconnect event.
/// 5. The final SELECT reports the items that are not simply new, by `ord`: a
///    StartTransaction, with its allocated transaction id; a duplicate, with the
///    answer to repeat (a second copy in the batch the first copy's; a keyed CALL
///    whose receipt existed, a retransmission, the stored one, looked up by primary
///    key). If a receipt is not visible, because another gateway's transaction
///    inserted it after this statement's snapshot (`ON CONFLICT` waited for it to
///    commit), `resolved` is false and the item must be written again in a later
///    batch, whose snapshot will see it. Every other item was written as new, which
///    is what `inserted` wrote, and gets no row: its answer is the bytes the writer
///    already holds. At a steady rate almost every item is such a MeterValues or
///    StatusNotification, so a committed batch usually returns no row at all
///    (each row returned cost the gateway the decoding of five columns).
///
/// The workers are woken by ``InboxNotifier`` after the commit, not by a NOTIFY in
/// this statement: that would take PostgreSQL's cluster-wide notification lock at
/// every batch's commit.
///
/// Payloads arrive as JSON text and are stored as `json`, which PostgreSQL only
/// checks; the worker converts them to `jsonb` once when it applies them, off the
/// acknowledgement path (migration 0011). Answers are stored as `jsonb`, parsed
/// once per written row.
///
/// Locks are taken in key order (ORDER BY in each INSERT ... SELECT) so that two
/// gateways writing overlapping keys do not deadlock.
struct IngestBatchStatement: PostgresPreparedStatement {
    /// Of an item that is not simply new: ord (from 0), the allocated transaction
    /// id (StartTransaction only), the answer to repeat (duplicates only), is
    /// duplicate, resolved.
    typealias Row = (Int32, Int32?, String?, Bool, Bool)

    static let sql = """
        WITH items AS MATERIALIZED (
            SELECT i.ord, i.station_id, i.kind, i.action, i.message_id, i.digest, i.payload,
                   i.response, i.response_tail, i.station_time, i.received_at,
                   i.start_connector_id, i.start_id_tag, i.start_started_at, i.start_meter_start,
                   i.digest IS NOT NULL AS keyed
            FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::text[],
                        $8::text[], $9::timestamptz[], $10::timestamptz[], $11::integer[], $12::text[],
                        $13::timestamptz[], $14::bigint[])
                 WITH ORDINALITY AS i(station_id, kind, action, message_id, digest, payload, response,
                                      response_tail, station_time, received_at, start_connector_id,
                                      start_id_tag, start_started_at, start_meter_start, ord)
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
            SELECT i.*, s.transaction_id, f.final_response, f.final_response::jsonb AS final_json
            FROM items AS i
            LEFT JOIN starts AS s
              ON s.station_id = i.station_id AND s.connector_id = i.start_connector_id
             AND s.id_tag = i.start_id_tag AND s.started_at = i.start_started_at
             AND s.meter_start = i.start_meter_start
            CROSS JOIN LATERAL (
                SELECT CASE WHEN i.response_tail IS NULL THEN i.response
                            ELSE i.response || s.transaction_id::text || i.response_tail
                       END AS final_response
            ) AS f
        ), firsts AS (
            SELECT DISTINCT ON (station_id, action, digest)
                   ord, station_id, action, digest, final_response, final_json, received_at
            FROM prepared
            WHERE keyed
            ORDER BY station_id, action, digest, ord
        ), receipts AS (
            INSERT INTO ocpp.inbox_receipts (station_id, action, payload_digest, response, received_at)
            SELECT station_id, action, digest, final_json, received_at
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
            SELECT received_at, $15::text, station_id, kind, action, message_id,
                   digest, payload::json, final_json, station_time
            FROM classified
            WHERE NOT keyed OR (receipt_is_new AND first_ord = ord)
            ORDER BY ord
        )
        SELECT (c.ord - 1)::integer,
               c.transaction_id,
               (CASE WHEN NOT c.keyed OR (c.receipt_is_new AND c.first_ord = c.ord) THEN NULL
                     WHEN c.receipt_is_new THEN c.first_response
                     ELSE stored.response::text
                END) AS answer,
               c.keyed AND NOT (c.receipt_is_new AND c.first_ord = c.ord) AS is_duplicate,
               NOT c.keyed OR c.receipt_is_new OR stored.found IS NOT NULL AS resolved
        FROM classified AS c
        -- A primary-key probe per retransmission, whatever the generic plan's row
        -- estimates. LATERAL alone did not keep it one: the planner pulls a simple
        -- subquery up into a plain join, and the generic plan, made while the
        -- receipts table was small, hashed a scan of the whole table at every batch
        -- (375 µs of database time per message at 126,000 receipts). LIMIT keeps the
        -- subquery a subquery, run per row with the row's key.
        LEFT JOIN LATERAL (
            SELECT r.response, true AS found
            FROM ocpp.inbox_receipts AS r
            WHERE c.keyed AND NOT c.receipt_is_new AND r.station_id = c.station_id
              AND r.action = c.action AND r.payload_digest = c.digest
            LIMIT 1
        ) AS stored ON true
        WHERE c.transaction_id IS NOT NULL OR (c.keyed AND NOT (c.receipt_is_new AND c.first_ord = c.ord))
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
        var columns = Columns(capacity: items.count)
        for item in items { columns.append(item) }
        var bindings = PostgresBindings(capacity: 15)
        bindings.append(columns.stationID)
        bindings.append(columns.kind)
        bindings.append(columns.action)
        bindings.append(columns.messageID)
        bindings.append(columns.digest)
        bindings.append(columns.payload)
        bindings.append(columns.response)
        bindings.append(columns.responseTail)
        bindings.append(columns.stationTime)
        bindings.append(columns.receivedAt)
        bindings.append(columns.startConnectorID)
        bindings.append(columns.startIdTag)
        bindings.append(columns.startStartedAt)
        bindings.append(columns.startMeterStart)
        bindings.append(gatewayID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }

    /// The per-item columns, filled in one pass over the items.
    private struct Columns {
        var stationID: PostgresArrayColumn<Int64>
        var kind: PostgresArrayColumn<String>
        var action: PostgresArrayColumn<String>
        var messageID: PostgresArrayColumn<String>
        var digest: PostgresArrayColumn<PostgresBytes>
        var payload: PostgresArrayColumn<String>
        var response: PostgresArrayColumn<String>
        var responseTail: PostgresArrayColumn<String>
        var stationTime: PostgresArrayColumn<PostgresTimestamp>
        var receivedAt: PostgresArrayColumn<PostgresTimestamp>
        var startConnectorID: PostgresArrayColumn<Int32>
        var startIdTag: PostgresArrayColumn<String>
        var startStartedAt: PostgresArrayColumn<PostgresTimestamp>
        var startMeterStart: PostgresArrayColumn<Int64>

        init(capacity: Int) {
            stationID = .init(capacity: capacity)
            kind = .init(capacity: capacity)
            action = .init(capacity: capacity)
            messageID = .init(capacity: capacity)
            digest = .init(capacity: capacity)
            payload = .init(capacity: capacity)
            response = .init(capacity: capacity)
            responseTail = .init(capacity: capacity)
            stationTime = .init(capacity: capacity)
            receivedAt = .init(capacity: capacity)
            startConnectorID = .init(capacity: capacity)
            startIdTag = .init(capacity: capacity)
            startStartedAt = .init(capacity: capacity)
            startMeterStart = .init(capacity: capacity)
        }

        mutating func append(_ item: WorkItem) {
            stationID.append(item.stationID)
            kind.append(item.kind)
            receivedAt.append(PostgresTimestamp(item.receivedAt))
            var start: TransactionStartKey?
            switch item {
            case .call(let row):
                action.append(row.action.rawValue)
                messageID.append(row.messageID)
                digest.append(row.payloadDigest.map(PostgresBytes.init))
                payload.append(utf8: row.payloadJSON)
                switch row.response {
                case .complete(let bytes):
                    response.append(utf8: bytes)
                    responseTail.append(nil)
                case .transactionStart(let key, let head, let tail):
                    response.append(utf8: head)
                    responseTail.append(utf8: tail)
                    start = key
                }
                stationTime.append(row.stationTime.map(PostgresTimestamp.init))
            case .connected(let event), .disconnected(let event):
                action.append(nil)
                messageID.append(nil)
                digest.append(nil)
                payload.append(event.detailsJSON)
                response.append(nil)
                responseTail.append(nil)
                stationTime.append(nil)
            }
            startConnectorID.append(start?.connectorID)
            startIdTag.append(start?.idTag)
            startStartedAt.append(start.map { PostgresTimestamp($0.startedAt) })
            startMeterStart.append(start.map { Int64($0.meterStart) })
        }
    }

    /// Writes the batch and returns one result per item, in the items' order.
    static func run(
        _ items: some Collection<WorkItem>, gatewayID: String, client: PostgresClient, logger: Logger
    ) async throws -> [IngestItemResult] {
        let statement = IngestBatchStatement(items: items, gatewayID: gatewayID)
        let rows = try await client.withConnection { connection -> [Row] in
            try connection.requireOpen()
            var rows: [Row] = []
            for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
            return rows
        }
        var reported = [Row?](repeating: nil, count: statement.items.count)
        for row in rows {
            let index = Int(row.0)
            guard reported.indices.contains(index), reported[index] == nil else {
                throw IngestStatementError(reason: "the batch statement returned an unknown ord \(row.0)")
            }
            reported[index] = row
        }
        return try zip(statement.items, reported).map { item, row in
            // No row: written as new. (A StartTransaction always has one, with its
            // id; without it `callResult` throws rather than answer without an id.)
            guard let (_, transactionID, answer, isDuplicate, resolved) = row else {
                let callResult = try Self.callResult(of: item, transactionID: nil, answer: nil, isDuplicate: false)
                return .committed(IngestOutcome(callResult: callResult, isDuplicate: false))
            }
            guard resolved else { return .unresolved }
            let callResult = try Self.callResult(
                of: item, transactionID: transactionID, answer: answer, isDuplicate: isDuplicate)
            return .committed(IngestOutcome(callResult: callResult, isDuplicate: isDuplicate))
        }
    }

    /// The CALLRESULT frame for a committed CALL: around the bytes the row was
    /// written with, or, for a duplicate, around the answer given the first time
    /// (the only answer read back). Nil for an event.
    private static func callResult(
        of item: WorkItem, transactionID: Int32?, answer: String?, isDuplicate: Bool
    ) throws -> [UInt8]? {
        guard case .call(let row) = item else { return nil }
        if isDuplicate {
            guard let answer else {
                throw IngestStatementError(reason: "the batch statement returned no answer for a duplicate")
            }
            return OCPPFrame.encodeCallResult(messageID: row.messageID, payloadJSON: answer.utf8)
        }
        guard let payload = row.response.payload(transactionID: transactionID) else {
            throw IngestStatementError(reason: "the batch statement allocated no transaction id")
        }
        return OCPPFrame.encodeCallResult(messageID: row.messageID, payloadJSON: payload)
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
