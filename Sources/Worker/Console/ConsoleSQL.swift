/// SQL fragments the console's pages share, rendered by the database as JSON.
enum ConsoleSQL {
    /// A time as the console shows it (the admin pool's session runs in UTC).
    static func time(_ column: String) -> String {
        "to_char(\(column), 'YYYY-MM-DD HH24:MI:SS')"
    }

    /// A station's state on the fleet and station pages, from `ocpp.stations AS s`;
    /// also the data of a live `station` event.
    static let stationState = """
        json_build_object(
            'id', s.id, 'identity', s.identity, 'online', s.online,
            'registration', s.registration_status, 'securityProfile', s.security_profile,
            'lastSeen', \(time("s.last_seen_at")),
            'connectors', coalesce((
                SELECT json_agg(json_build_object(
                    'connectorId', c.connector_id, 'status', c.status, 'errorCode', c.error_code,
                    'info', c.info, 'statusAt', \(time("c.status_at"))) ORDER BY c.connector_id)
                FROM ocpp.connectors AS c WHERE c.station_id = s.id), '[]'))
        """
}
