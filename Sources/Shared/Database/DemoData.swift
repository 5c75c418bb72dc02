import Logging
import PostgresNIO

/// The demo station of the README's walkthrough: `DEMO-STATION`, accepted, with two
/// connectors, and a few id tags in each authorization state. Seeding twice changes
/// nothing.
public enum DemoData {
    public static let stationIdentity = "DEMO-STATION"

    public static let idTags: [(idTag: String, status: String)] = [
        ("DEMO-TAG-1", "Accepted"),
        ("DEMO-TAG-2", "Accepted"),
        ("DEMO-BLOCKED", "Blocked"),
        ("DEMO-EXPIRED", "Expired"),
    ]

    public static func seed(client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO ocpp.stations (identity, vendor, model, registration_status)
                VALUES (\(stationIdentity), 'Demo', 'Simulator', 'Accepted')
                ON CONFLICT (identity) DO NOTHING
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO ocpp.connectors (station_id, connector_id)
                SELECT id, connector_id FROM ocpp.stations, (VALUES (1), (2)) AS c (connector_id)
                WHERE identity = \(stationIdentity)
                ON CONFLICT DO NOTHING
                """, logger: logger)
            for entry in idTags {
                try await connection.query(
                    """
                    INSERT INTO ocpp.id_tags (id_tag, status) VALUES (\(entry.idTag), \(entry.status))
                    ON CONFLICT (id_tag) DO NOTHING
                    """, logger: logger)
            }
        }
        logger.info("seed: demo station \(stationIdentity) with 2 connectors and \(idTags.count) id tags is present")
    }
}
