import OCPP
import PostgresNIO
import Shared

// The meter values handler's statements, run at every batch of them, prepared:
// parsed and planned once per pool connection.

/// The batch's journal rows that carry sampled values
/// (``MeterValueExpansion/actions``), in id order.
struct MeterValuesJournalStatement: PostgresPreparedStatement {
    typealias Row = MeterValueExpansion.JournalRow

    static let sql = """
        SELECT id, station_id, received_at, action, payload::text
        FROM ocpp.inbox
        WHERE id = ANY($1::bigint[]) AND received_at BETWEEN $2 AND $3
          AND \(MeterValuesHandler().actionFilter)
        ORDER BY id
        """

    var batch: ClaimedBatch

    func makeBindings() -> PostgresBindings { batch.bindings }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (id, station, receivedAt, action, payload) = try row.decode(
            (Int64, Int64, PostgresTimestamp, String, ByteBuffer).self)
        return Row(id: id, stationID: station, receivedAt: receivedAt, action: action, payload: payload)
    }
}

/// The rows, one array per column in the table's order (NULL where a row has no
/// transaction, and in `value` or `raw_value`, whichever does not hold the value),
/// and the hours they fall in (sorted: the stale hours are locked in key order).
struct MeterValuesInsertStatement: PostgresPreparedStatement {
    typealias Row = Void

    static let sql = """
        WITH stale AS (
            INSERT INTO ocpp.meter_values_stale_hours (bucket)
            SELECT bucket FROM unnest($14::timestamptz[]) AS h (bucket) ORDER BY bucket
            ON CONFLICT DO NOTHING
        )
        INSERT INTO ocpp.meter_values (sampled_at, station_id, connector_id, transaction_id, measurand, phase,
                                       location, unit, context, format, value, raw_value, received_at)
        SELECT *
        FROM unnest($1::timestamptz[], $2::bigint[], $3::integer[], $4::integer[], $5::text[], $6::text[],
                    $7::text[], $8::text[], $9::text[], $10::text[], $11::double precision[], $12::text[],
                    $13::timestamptz[])
        """

    var rows: [MeterValueRow]

    func makeBindings() -> PostgresBindings {
        var sampledAt = PostgresArrayColumn<PostgresTimestamp>(capacity: rows.count)
        var station = PostgresArrayColumn<Int64>(capacity: rows.count)
        var connector = PostgresArrayColumn<Int32>(capacity: rows.count)
        var transaction = PostgresArrayColumn<Int32>(capacity: rows.count)
        var measurand = PostgresArrayColumn<String>(capacity: rows.count)
        var phase = PostgresArrayColumn<String>(capacity: rows.count)
        var location = PostgresArrayColumn<String>(capacity: rows.count)
        var unit = PostgresArrayColumn<String>(capacity: rows.count)
        var context = PostgresArrayColumn<String>(capacity: rows.count)
        var format = PostgresArrayColumn<String>(capacity: rows.count)
        var value = PostgresArrayColumn<Double>(capacity: rows.count)
        var rawValue = PostgresArrayColumn<String>(capacity: rows.count)
        var receivedAt = PostgresArrayColumn<PostgresTimestamp>(capacity: rows.count)
        var hours = Set<PostgresTimestamp>()
        for row in rows {
            sampledAt.append(row.sampledAt)
            station.append(row.stationID)
            connector.append(row.connectorID)
            transaction.append(row.transactionID)
            measurand.append(row.measurand)
            phase.append(row.phase)
            location.append(row.location)
            unit.append(row.unit)
            context.append(row.context)
            format.append(row.format)
            value.append(row.value)
            rawValue.append(row.rawValue)
            receivedAt.append(row.receivedAt)
            hours.insert(row.sampledAt.hour)
        }
        var bindings = PostgresBindings(capacity: 14)
        bindings.append(sampledAt)
        bindings.append(station)
        bindings.append(connector)
        bindings.append(transaction)
        bindings.append(measurand)
        bindings.append(phase)
        bindings.append(location)
        bindings.append(unit)
        bindings.append(context)
        bindings.append(format)
        bindings.append(value)
        bindings.append(rawValue)
        bindings.append(receivedAt)
        bindings.append(PostgresArrayColumn(hours.sorted()))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws {}
}
