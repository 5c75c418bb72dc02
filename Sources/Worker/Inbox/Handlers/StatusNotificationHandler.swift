import Logging
import OCPP
import PostgresNIO

/// StatusNotification: the connector's current status, and its history.
///
/// The status time is the station's timestamp, or the receive time when the
/// message has none. The newest status time wins (ties: the later receive time), so
/// an older notification applied late overwrites nothing. Every notification is
/// appended to `status_events`, whose key makes a replay insert nothing.
struct StatusNotificationHandler: InboxHandler {
    let actions: Set<OCPPAction> = [.statusNotification]

    static let statuses = """
        statuses AS (
            SELECT b.station_id, (b.payload->>'connectorId')::integer AS connector_id, b.payload->>'status' AS status,
                   b.payload->>'errorCode' AS error_code, b.payload->>'info' AS info,
                   b.payload->>'vendorId' AS vendor_id, b.payload->>'vendorErrorCode' AS vendor_error_code,
                   coalesce(b.station_time, b.received_at) AS status_at, b.received_at
            FROM batch AS b
        )
        """

    var historySQL: String {
        """
        WITH \(ClaimedBatch.rowsCTE(where: actionFilter)), \(Self.statuses)
        INSERT INTO ocpp.status_events (station_id, connector_id, status, error_code, info, vendor_id,
                                        vendor_error_code, status_at, received_at)
        SELECT station_id, connector_id, status, error_code, info, vendor_id, vendor_error_code, status_at, received_at
        FROM statuses
        ORDER BY station_id, connector_id, status_at, status, error_code
        ON CONFLICT DO NOTHING
        """
    }

    var currentSQL: String {
        """
        WITH \(ClaimedBatch.rowsCTE(where: actionFilter)), \(Self.statuses),
        newest AS (
            SELECT DISTINCT ON (station_id, connector_id) *
            FROM statuses
            ORDER BY station_id, connector_id, status_at DESC, received_at DESC
        )
        INSERT INTO ocpp.connectors AS c (station_id, connector_id, status, error_code, info, vendor_id,
                                          vendor_error_code, status_at, status_received_at, updated_at)
        SELECT station_id, connector_id, status, error_code, info, vendor_id, vendor_error_code, status_at,
               received_at, now()
        FROM newest
        ORDER BY station_id, connector_id
        ON CONFLICT (station_id, connector_id) DO UPDATE SET
            status = excluded.status, error_code = excluded.error_code, info = excluded.info,
            vendor_id = excluded.vendor_id, vendor_error_code = excluded.vendor_error_code,
            status_at = excluded.status_at, status_received_at = excluded.status_received_at, updated_at = now()
        WHERE c.status_at IS NULL
           OR (excluded.status_at, excluded.status_received_at)
              >= (c.status_at, coalesce(c.status_received_at, '-infinity'))
        """
    }

    func apply(_ batch: ClaimedBatch, on connection: PostgresConnection, logger: Logger) async throws {
        try await execute(historySQL, batch, on: connection, logger: logger)
        try await execute(currentSQL, batch, on: connection, logger: logger)
    }
}
