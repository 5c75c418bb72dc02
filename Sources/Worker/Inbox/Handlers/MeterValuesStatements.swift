import OCPP
import PostgresNIO

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

/// The rows, one array per column, and the hours they fall in (sorted: the stale
/// hours are locked in key order). Nullable columns come with a mask, as arrays of
/// optionals cannot be bound.
struct MeterValuesInsertStatement: PostgresPreparedStatement {
    typealias Row = Void

    static let sql = """
        WITH stale AS (
            INSERT INTO ocpp.meter_values_stale_hours (bucket)
            SELECT bucket FROM unnest($15::timestamptz[]) AS h (bucket) ORDER BY bucket
            ON CONFLICT DO NOTHING
        )
        INSERT INTO ocpp.meter_values (sampled_at, station_id, connector_id, transaction_id, measurand, phase,
                                       location, unit, context, format, value, raw_value, received_at)
        SELECT sampled_at, station_id, connector_id, CASE WHEN has_transaction THEN transaction_id END, measurand,
               phase, location, unit, context, format, CASE WHEN is_number THEN value END,
               CASE WHEN NOT is_number THEN raw_value END, received_at
        FROM unnest($1::timestamptz[], $2::bigint[], $3::integer[], $4::integer[], $5::boolean[], $6::text[],
                    $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::boolean[],
                    $13::double precision[], $14::text[], $16::timestamptz[])
            AS r (sampled_at, station_id, connector_id, transaction_id, has_transaction, measurand, phase,
                  location, unit, context, format, is_number, value, raw_value, received_at)
        """

    var rows: [MeterValueRow]

    func makeBindings() -> PostgresBindings {
        var sampledAt: [PostgresTimestamp] = []
        var station: [Int64] = []
        var connector: [Int32] = []
        var transaction: [Int32] = []
        var hasTransaction: [Bool] = []
        var measurand: [String] = []
        var phase: [String] = []
        var location: [String] = []
        var unit: [String] = []
        var context: [String] = []
        var format: [String] = []
        var isNumber: [Bool] = []
        var value: [Double] = []
        var rawValue: [String] = []
        var receivedAt: [PostgresTimestamp] = []
        sampledAt.reserveCapacity(rows.count)
        station.reserveCapacity(rows.count)
        connector.reserveCapacity(rows.count)
        transaction.reserveCapacity(rows.count)
        hasTransaction.reserveCapacity(rows.count)
        measurand.reserveCapacity(rows.count)
        phase.reserveCapacity(rows.count)
        location.reserveCapacity(rows.count)
        unit.reserveCapacity(rows.count)
        context.reserveCapacity(rows.count)
        format.reserveCapacity(rows.count)
        isNumber.reserveCapacity(rows.count)
        value.reserveCapacity(rows.count)
        rawValue.reserveCapacity(rows.count)
        receivedAt.reserveCapacity(rows.count)
        var hours = Set<PostgresTimestamp>()
        for row in rows {
            sampledAt.append(row.sampledAt)
            station.append(row.stationID)
            connector.append(row.connectorID)
            transaction.append(row.transactionID ?? 0)
            hasTransaction.append(row.transactionID != nil)
            measurand.append(row.measurand)
            phase.append(row.phase)
            location.append(row.location)
            unit.append(row.unit)
            context.append(row.context)
            format.append(row.format)
            isNumber.append(row.value != nil)
            value.append(row.value ?? 0)
            rawValue.append(row.rawValue ?? "")
            receivedAt.append(row.receivedAt)
            hours.insert(row.sampledAt.hour)
        }
        var bindings = PostgresBindings(capacity: 16)
        bindings.append(sampledAt)
        bindings.append(station)
        bindings.append(connector)
        bindings.append(transaction)
        bindings.append(hasTransaction)
        bindings.append(measurand)
        bindings.append(phase)
        bindings.append(location)
        bindings.append(unit)
        bindings.append(context)
        bindings.append(format)
        bindings.append(isNumber)
        bindings.append(value)
        bindings.append(rawValue)
        bindings.append(hours.sorted())
        bindings.append(receivedAt)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws {}
}
