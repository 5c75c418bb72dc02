import Logging
import OCPP
import PostgresNIO

/// The messages that change no domain table, kept in `station_events` as sent, with
/// the answer given, for operators: DataTransfer, DiagnosticsStatusNotification,
/// FirmwareStatusNotification, LogStatusNotification, SecurityEventNotification,
/// SignedFirmwareStatusNotification, and StopTransaction for a transaction this
/// system never allocated for the station. One event per work row: a replayed batch
/// inserts nothing. (SignCertificate events are written by
/// ``SignCertificateHandler``, with what became of the request.)
struct StationEventHandler: InboxHandler {
    let actions: Set<OCPPAction> = [
        .dataTransfer, .diagnosticsStatusNotification, .firmwareStatusNotification, .logStatusNotification,
        .securityEventNotification, .signedFirmwareStatusNotification, .stopTransaction,
    ]

    var sql: String {
        """
        WITH \(ClaimedBatch.rowsCTE(where: actionFilter))
        INSERT INTO ocpp.station_events (station_id, inbox_id, action, payload, response, station_time, received_at)
        SELECT b.station_id, b.id, b.action, b.payload, b.response, b.station_time, b.received_at
        FROM batch AS b
        WHERE b.action <> 'StopTransaction'
           OR NOT EXISTS (
                SELECT 1 FROM ocpp.transaction_starts AS s
                WHERE s.transaction_id = (b.payload->>'transactionId')::integer AND s.station_id = b.station_id)
        ORDER BY b.id
        ON CONFLICT (inbox_id) DO NOTHING
        """
    }

    func apply(_ batch: ClaimedBatch, on connection: PostgresConnection, logger: Logger) async throws {
        try await execute(sql, batch, on: connection, logger: logger)
    }
}
