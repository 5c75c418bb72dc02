import Logging
import OCPP
import PostgresNIO
import Shared

/// MeterValues, and the `transactionData` of StopTransaction: one `meter_values` row
/// per sampled value, inserted in one statement per batch.
///
/// Every sampled value is a row, whatever other samples share its time, measurand
/// or unit (a meter that reports Wh, kWh and SignedData for one reading sends three).
/// Replays are decided per message, never per sample: a retried message, whatever
/// its unique id, is the same journal row (the gateway's content receipt), and each
/// journal row is applied once, in the transaction that marks it processed. So the
/// insert is a plain one, with no conflict clause.
///
/// The payloads are read in the worker, with the protocol core, and expanded there
/// (``MeterValueExpansion``): PostgreSQL parses no JSON, it receives the rows as
/// binary arrays and unnests them. The spec's defaults are stored for omitted fields
/// (measurand Energy.Active.Import.Register, location Outlet, unit Wh, context
/// Sample.Periodic, format Raw). A Raw value that reads as a plain decimal number is
/// stored in `value`; anything else (SignedData, text) stays as sent in `raw_value`.
/// A `transactionId` this system never allocates (0 or below: the sequence starts
/// at 1) is stored as no transaction, as the chargers that send 0 outside a
/// transaction mean it; any other id is kept as sent, known or not. A stop's values
/// take the connector of its transaction (one lookup for the batch). The hours that
/// received values are marked stale for the rollup.
struct MeterValuesHandler: InboxHandler {
    let actions: Set<OCPPAction> = MeterValueExpansion.actions

    /// The batch's journal rows of ``actions``, in id order.
    var journalSQL: String {
        """
        SELECT id, station_id, received_at, action, payload::text
        FROM ocpp.inbox
        WHERE id = ANY($1::bigint[]) AND received_at BETWEEN $2 AND $3 AND \(actionFilter)
        ORDER BY id
        """
    }

    /// The connectors of the transactions the stops name (the id is unique; the
    /// station is checked by the caller).
    static let connectorsSQL = """
        SELECT station_id, transaction_id, connector_id FROM ocpp.transaction_starts
        WHERE transaction_id = ANY($1::integer[])
        """

    /// The rows, one array per column, and the hours they fall in (sorted: the stale
    /// hours are locked in key order). Nullable columns come with a mask, as arrays
    /// of optionals cannot be bound.
    static let insertSQL = """
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

    func apply(_ batch: ClaimedBatch, on connection: PostgresConnection, logger: Logger) async throws {
        var messages: [MeterValueExpansion.Message] = []
        let journal = try await connection.query(batch.query(journalSQL), logger: logger)
        for try await (id, station, receivedAt, action, payload) in journal.decode(
            (Int64, Int64, PostgresTimestamp, String, ByteBuffer).self)
        {
            let row = MeterValueExpansion.JournalRow(
                id: id, stationID: station, receivedAt: receivedAt, action: action, payload: payload)
            if let message = try MeterValueExpansion.message(row) { messages.append(message) }
        }
        let connectors = try await self.connectors(
            of: MeterValueExpansion.stopTransactions(of: messages), on: connection, logger: logger)
        let rows = MeterValueExpansion.rows(messages, connectors: connectors)
        guard !rows.isEmpty else { return }
        _ = try await connection.query(Self.insert(rows), logger: logger).collect()
    }

    private func connectors(
        of keys: Set<MeterValueExpansion.TransactionKey>, on connection: PostgresConnection, logger: Logger
    ) async throws -> [MeterValueExpansion.TransactionKey: Int32] {
        guard !keys.isEmpty else { return [:] }
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(Set(keys.map(\.transactionID)).sorted())
        var connectors: [MeterValueExpansion.TransactionKey: Int32] = [:]
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: Self.connectorsSQL, binds: bindings), logger: logger)
        for try await (station, transaction, connector) in rows.decode((Int64, Int32, Int32).self) {
            let key = MeterValueExpansion.TransactionKey(stationID: station, transactionID: transaction)
            if keys.contains(key) { connectors[key] = connector }
        }
        return connectors
    }

    /// The insert statement with `rows` bound as binary arrays.
    static func insert(_ rows: [MeterValueRow]) -> PostgresQuery {
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
        return PostgresQuery(unsafeSQL: insertSQL, binds: bindings)
    }
}
