import Logging
import PostgresNIO

/// MeterValues, and the `transactionData` of StopTransaction: one `meter_values` row
/// per sampled value, inserted in one statement per batch.
///
/// Every sampled value is a row, whatever other samples share its time, measurand
/// or unit (a meter that reports Wh, kWh and SignedData for one reading sends three).
/// Replays are decided per message, never per sample: a retried message, whatever
/// its unique id, is the same journal row (the gateway's content receipt), and each
/// journal row is applied once, in the transaction that marks it processed.
///
/// The spec's defaults are stored for omitted fields (measurand
/// Energy.Active.Import.Register, location Outlet, unit Wh, context Sample.Periodic,
/// format Raw). A Raw value that reads as a number is stored in `value`; anything
/// else (SignedData, text) stays as sent in `raw_value`. A `transactionId` this
/// system never allocates (0 or below: the sequence starts at 1) is stored as no
/// transaction, as the chargers that send 0 outside a transaction mean it; any other
/// id is kept as sent, known or not. A stop's values take the connector of its
/// transaction. The hours that received values are marked stale for the rollup.
struct MeterValuesHandler: InboxHandler {
    let actions: Set<String> = ["MeterValues", "StopTransaction"]

    /// A plain decimal number, bounded so that the cast to double precision cannot
    /// overflow: at most 30 digits each side of the point, a two-digit exponent.
    ///
    /// The digit bounds are checked apart from the pattern, because PostgreSQL's regex
    /// engine unrolls bounded repeats such as `{1,30}`, which made the one-pattern form
    /// about three times slower, the largest cost of the SQL side of the statement (see
    /// docs/BENCHMARKS.md, worker throughput). The two are the same test: in a string
    /// the pattern accepts, the integer digits, the fraction digits and the exponent are
    /// separate runs of digits, so "no run of 31 digits" bounds both sides of the point,
    /// and a string of at most 30 characters cannot hold such a run.
    static let numberPattern = #"^\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9][0-9]?)?\s*$"#
    static let tooManyDigitsPattern = "[0-9]{31}"

    var sql: String {
        """
        WITH \(ClaimedBatch.rowsCTE(where: actionFilter)),
        readings AS (
            SELECT b.station_id, (b.payload->>'connectorId')::integer AS connector_id,
                   nullif(greatest((b.payload->>'transactionId')::integer, 0), 0) AS transaction_id, b.received_at,
                   reading.value AS reading
            FROM batch AS b
            CROSS JOIN LATERAL jsonb_array_elements(b.payload->'meterValue') AS reading
            WHERE b.action = 'MeterValues'
            UNION ALL
            SELECT b.station_id, coalesce(s.connector_id, 0), (b.payload->>'transactionId')::integer, b.received_at,
                   reading.value
            FROM batch AS b
            LEFT JOIN ocpp.transaction_starts AS s
              ON s.transaction_id = (b.payload->>'transactionId')::integer AND s.station_id = b.station_id
            CROSS JOIN LATERAL jsonb_array_elements(coalesce(b.payload->'transactionData', '[]'::jsonb)) AS reading
            WHERE b.action = 'StopTransaction'
        ), samples AS (
            SELECT r.station_id, r.connector_id, r.transaction_id, r.received_at,
                   (r.reading->>'timestamp')::timestamptz AS sampled_at,
                   sample.value->>'value' AS text_value,
                   coalesce(sample.value->>'measurand', 'Energy.Active.Import.Register') AS measurand,
                   coalesce(sample.value->>'phase', '') AS phase,
                   coalesce(sample.value->>'location', 'Outlet') AS location,
                   coalesce(sample.value->>'unit', 'Wh') AS unit,
                   coalesce(sample.value->>'context', 'Sample.Periodic') AS context,
                   coalesce(sample.value->>'format', 'Raw') AS format
            FROM readings AS r
            CROSS JOIN LATERAL jsonb_array_elements(r.reading->'sampledValue') AS sample
        ), parsed AS (
            SELECT s.*, s.format = 'Raw' AND s.text_value ~ '\(Self.numberPattern)'
                        AND (length(s.text_value) <= 30 OR s.text_value !~ '\(Self.tooManyDigitsPattern)') AS is_number
            FROM samples AS s
        ), inserted AS (
            INSERT INTO ocpp.meter_values (sampled_at, station_id, connector_id, transaction_id, measurand, phase,
                                           location, unit, context, format, value, raw_value, received_at)
            SELECT sampled_at, station_id, connector_id, transaction_id, measurand, phase, location, unit, context,
                   format, CASE WHEN is_number THEN text_value::double precision END,
                   CASE WHEN NOT is_number THEN text_value END, received_at
            FROM parsed
            RETURNING sampled_at
        )
        INSERT INTO ocpp.meter_values_stale_hours (bucket)
        SELECT DISTINCT date_trunc('hour', sampled_at, 'UTC') FROM inserted ORDER BY 1
        ON CONFLICT DO NOTHING
        """
    }

    func apply(_ batch: ClaimedBatch, on connection: PostgresConnection, logger: Logger) async throws {
        try await execute(sql, batch, on: connection, logger: logger)
    }
}
