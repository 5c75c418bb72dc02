import OCPP
import PostgresNIO
import Shared
import TestSupport

extension TestDatabase {
    /// Simulates a database outage for one test database, leaving the server (and
    /// the other tests on it) alone: refuses new connections and ends the open ones.
    static func setConnectionsAllowed(_ allowed: Bool, database name: String) async throws {
        try await PostgresClient.withClient(configuration: try serverConfiguration, logger: logger) { admin in
            try await admin.query(
                PostgresQuery(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS \(allowed ? "true" : "false")"),
                logger: logger)
            if !allowed {
                _ = try await admin.query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(name)", logger: logger
                ).collect()
            }
        }
    }
}
