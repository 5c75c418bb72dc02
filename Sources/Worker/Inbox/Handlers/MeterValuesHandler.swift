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

    /// The connectors of the transactions the stops name (the id is unique; the
    /// station is checked by the caller).
    static let connectorsSQL = """
        SELECT station_id, transaction_id, connector_id FROM ocpp.transaction_starts
        WHERE transaction_id = ANY($1::integer[])
        """

    func apply(_ batch: ClaimedBatch, on connection: PostgresConnection, logger: Logger) async throws {
        var messages: [MeterValueExpansion.Message] = []
        for try await row in try await connection.execute(MeterValuesJournalStatement(batch: batch), logger: logger) {
            if let message = try MeterValueExpansion.message(row) { messages.append(message) }
        }
        let connectors = try await self.connectors(
            of: MeterValueExpansion.stopTransactions(of: messages), on: connection, logger: logger)
        let rows = MeterValueExpansion.rows(messages, connectors: connectors)
        guard !rows.isEmpty else { return }
        try await connection.run(MeterValuesInsertStatement(rows: rows), logger: logger)
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
}
