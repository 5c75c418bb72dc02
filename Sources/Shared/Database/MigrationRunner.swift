import Foundation
import Logging
import PostgresNIO

/// Applies the pending migrations of `sql/` in order, each in its own transaction.
///
/// Safe when several processes start at once: the runner holds a session advisory
/// lock while it works, so one process applies and the others wait, then find
/// nothing left to do. Every applied file is recorded with its checksum; a recorded
/// file that has since changed stops the run before anything is applied.
public struct MigrationRunner: Sendable {
    /// The advisory lock key (the bytes of "ocppmigr").
    static let lockKey: Int64 = 0x6F63_7070_6D69_6772

    private let client: PostgresClient
    private let directory: URL
    private let logger: Logger

    public init(client: PostgresClient, directory: URL, logger: Logger) {
        self.client = client
        self.directory = directory
        self.logger = logger
    }

    /// Runs the migrations; returns the names of the files it applied.
    @discardableResult
    public func run() async throws -> [String] {
        try await client.withConnection { connection in
            // Drained, like every query here: an unread row sequence holds up the connection.
            _ = try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger).collect()
            do {
                let applied = try await applyPending(on: connection)
                _ = try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger).collect()
                return applied
            } catch {
                // The lock is released with the session too, but a pooled connection lives on.
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger).collect()
                throw error
            }
        }
    }

    private func applyPending(on connection: PostgresConnection) async throws -> [String] {
        try await connection.query("CREATE SCHEMA IF NOT EXISTS ocpp", logger: logger)
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS ocpp.schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var recorded: [Int: (name: String, checksum: String)] = [:]
        let rows = try await connection.query(
            "SELECT version, name, checksum FROM ocpp.schema_migrations", logger: logger)
        for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
            recorded[version] = (name, checksum)
        }

        let storagePath = try await chooseStoragePath(on: connection, recordedNames: recorded.values.map(\.name))
        logger.info("migrations: storage path is \(storagePath.summary)")
        let migrations = try Migration.load(from: directory, for: storagePath)

        // Check everything before changing anything.
        let names = Set(migrations.map(\.name))
        for entry in recorded.values.sorted(by: { $0.name < $1.name }) where !names.contains(entry.name) {
            throw MigrationError.missingFile(entry.name)
        }
        for migration in migrations {
            if let entry = recorded[migration.version], entry.checksum != migration.checksum {
                throw MigrationError.changedAfterApply(migration.name)
            }
        }

        var applied: [String] = []
        for migration in migrations where recorded[migration.version] == nil {
            try await apply(migration, on: connection)
            logger.info("migrations: applied \(migration.name)")
            applied.append(migration.name)
        }
        if applied.isEmpty { logger.info("migrations: schema is up to date") }
        return applied
    }

    private func apply(_ migration: Migration, on connection: PostgresConnection) async throws {
        try await connection.query("BEGIN", logger: logger)
        do {
            for (index, statement) in SQLScript.statements(in: migration.sql).enumerated() {
                do {
                    // Rows are drained so that an error raised while producing them
                    // surfaces here, not after the next statement.
                    _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect()
                } catch let error as PSQLError {
                    throw MigrationError.failed(
                        file: migration.name, statement: index + 1,
                        message: error.serverInfo?[.message] ?? String(describing: error.code))
                }
            }
            try await connection.query(
                """
                INSERT INTO ocpp.schema_migrations (version, name, checksum)
                VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                """, logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// The path already built, if any; otherwise TimescaleDB when the extension is
    /// installed and preloaded, else plain PostgreSQL.
    private func chooseStoragePath(
        on connection: PostgresConnection, recordedNames: [String]
    ) async throws
        -> StoragePath
    {
        let rows = try await connection.query(
            """
            SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
               AND current_setting('shared_preload_libraries') LIKE '%timescaledb%'
            """, logger: logger)
        var timescaleAvailable = false
        for try await available in rows.decode(Bool.self) { timescaleAvailable = available }
        let available: StoragePath = timescaleAvailable ? .timescale : .plain

        let built = recordedNames.lazy.compactMap { Migration.parse(fileName: $0)?.1 }.first
        if let built, built != available, built == .timescale {
            throw MigrationError.storagePathChanged(applied: built, available: available)
        }
        // A schema built plain stays plain even if TimescaleDB appears later: moving
        // data into hypertables is an operator's decision, not a migration's.
        return built ?? available
    }
}
