import Logging
import OCPP
import PostgresNIO
import Shared

/// The `stations` row: last seen (any work row), the newest boot's details and the
/// answer it got, and the online state from connect and disconnect rows.
///
/// Runs last in the batch, so the station rows, the hottest rows of all, stay locked
/// for the shortest time. Two workers never update the same station at once: a
/// station's rows are applied only by the drain loop that leases its bucket, so the
/// rows need no locking order (they were locked in id order first while workers
/// shared stations). The UPDATE's lock is `FOR NO KEY UPDATE`, which does not
/// conflict with the `FOR KEY SHARE` locks of foreign key checks: a gateway opening
/// a session (station_sessions) does not wait for this transaction.
///
/// Online state merges order-free: each connect/disconnect names its session and
/// when that session began; the session with the latest (start, id) is the
/// station's current one, and a disconnect of the current session ends it. Stale
/// events, applied late, change nothing.
struct StationStateHandler: InboxHandler {
    /// Every batch has some: last seen is updated from any row.
    let actions: Set<OCPPAction> = []

    static let bootSQL = """
        WITH \(ClaimedBatch.rowsCTE(where: "action = 'BootNotification'")),
        newest AS (
            SELECT DISTINCT ON (station_id) station_id, payload, response->>'status' AS status, received_at
            FROM batch ORDER BY station_id, received_at DESC, id DESC
        )
        UPDATE ocpp.stations AS s SET
            vendor = n.payload->>'chargePointVendor', model = n.payload->>'chargePointModel',
            serial_number = n.payload->>'chargePointSerialNumber',
            charge_box_serial_number = n.payload->>'chargeBoxSerialNumber',
            firmware_version = n.payload->>'firmwareVersion', iccid = n.payload->>'iccid',
            imsi = n.payload->>'imsi', meter_type = n.payload->>'meterType',
            meter_serial_number = n.payload->>'meterSerialNumber', boot_status = n.status,
            last_boot_at = n.received_at, updated_at = now()
        FROM newest AS n
        WHERE s.id = n.station_id AND (s.last_boot_at IS NULL OR n.received_at >= s.last_boot_at)
        """

    static let presenceSQL = """
        WITH \(ClaimedBatch.rowsCTE(where: "kind IN ('connected', 'disconnected')")),
        events AS (
            SELECT station_id, (payload->>'sessionId')::uuid AS session_id, payload->>'gatewayId' AS gateway_id,
                   (payload->>'connectedAt')::timestamptz AS connected_at,
                   CASE WHEN kind = 'disconnected' THEN received_at END AS disconnected_at
            FROM batch
        ), newest AS (
            SELECT DISTINCT ON (station_id) *
            FROM events
            ORDER BY station_id, connected_at DESC, session_id DESC, disconnected_at DESC NULLS LAST
        )
        UPDATE ocpp.stations AS s SET
            session_id = n.session_id, session_gateway_id = n.gateway_id, connected_at = n.connected_at,
            disconnected_at = n.disconnected_at, updated_at = now()
        FROM newest AS n
        WHERE s.id = n.station_id
          AND (s.connected_at IS NULL
               OR (n.connected_at, n.session_id) > (s.connected_at, s.session_id)
               OR ((n.connected_at, n.session_id) = (s.connected_at, s.session_id)
                   AND n.disconnected_at IS NOT NULL
                   AND (s.disconnected_at IS NULL OR n.disconnected_at > s.disconnected_at)))
        """

    func apply(_ batch: ClaimedBatch, on connection: PostgresConnection, logger: Logger) async throws {
        if !batch.lastSeen.isEmpty {
            try await connection.run(LastSeenStatement(lastSeen: batch.lastSeen), logger: logger)
        }
        if batch.countsByAction[.bootNotification, default: 0] > 0 {
            try await execute(Self.bootSQL, batch, on: connection, logger: logger)
        }
        if batch.contains(anyOf: [ConnectionEvent.connected, .disconnected]) {
            try await execute(Self.presenceSQL, batch, on: connection, logger: logger)
        }
    }
}

/// Each station's newest receive time in the batch (``ClaimedBatch/lastSeen``, read
/// by the claim), in station order. Prepared: it runs at every batch.
struct LastSeenStatement: PostgresPreparedStatement {
    typealias Row = Void

    static let sql = """
        UPDATE ocpp.stations AS s SET last_seen_at = seen.last_seen_at
        FROM unnest($1::bigint[], $2::timestamptz[]) AS seen (station_id, last_seen_at)
        WHERE s.id = seen.station_id AND (s.last_seen_at IS NULL OR s.last_seen_at < seen.last_seen_at)
        """

    var lastSeen: [Int64: PostgresTimestamp]

    func makeBindings() -> PostgresBindings {
        let seen = lastSeen.sorted { $0.key < $1.key }
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(seen.map(\.key))
        bindings.append(seen.map(\.value))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws {}
}
