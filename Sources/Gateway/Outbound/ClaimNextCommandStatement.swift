import PostgresNIO

/// Claims a station's oldest due command, or says when its next one is due: one
/// prepared statement, run at every connect, answer and NOTIFY.
///
/// SKIP LOCKED: a second claim racing this one (the station's previous gateway in
/// a takeover) moves on rather than waiting for the same row. The second branch
/// reads the snapshot from before the claim and is only returned when nothing was
/// claimed; it yields a row only when a command is queued for later.
struct ClaimNextCommandStatement: PostgresPreparedStatement {
    /// message id, action, payload, or (all nil) milliseconds until the next is due.
    typealias Row = (String?, String?, String?, Int64?)
    static let sql = """
        WITH claimed AS (
            UPDATE ocpp.station_messages
            SET status = 'sent', sent_at = now(), sent_by_gateway = $2, attempts = attempts + 1
            WHERE id = (
                SELECT id FROM ocpp.station_messages
                WHERE station_id = $1 AND status = 'pending' AND not_before <= now()
                  AND (expires_at IS NULL OR expires_at > now())
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING message_id, action, payload::text AS payload
        )
        SELECT message_id, action, payload, NULL::bigint FROM claimed
        UNION ALL
        SELECT NULL, NULL, NULL, ceil(extract(epoch FROM min(not_before) - now()) * 1000)::bigint
        FROM ocpp.station_messages
        WHERE station_id = $1 AND status = 'pending' AND not_before > now()
          AND (expires_at IS NULL OR expires_at > not_before)
        HAVING count(*) > 0 AND NOT EXISTS (SELECT 1 FROM claimed)
        """
    static let bindingDataTypes: [PostgresDataType] = [.int8, .text]

    var stationID: Int64
    var gatewayID: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(stationID)
        bindings.append(gatewayID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
