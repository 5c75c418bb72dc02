import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@Suite("Migrations against PostgreSQL")
struct MigrationTests {
    static let domainTables = [
        "stations", "connectors", "transactions", "transaction_starts", "meter_values", "meter_values_hourly",
        "meter_values_archive", "status_events", "id_tags", "inbox", "inbox_receipts", "station_messages",
        "station_sessions", "gateways", "schema_migrations", "issued_certificates", "inbox_buckets", "inbox_refusals",
    ]

    @Test func migratesAnEmptyDatabaseAndThenDoesNothing() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            let applied = try await TestDatabase.migrate(client)
            #expect(
                applied == [
                    "0001_schema.sql", "0002_time_series.plain.sql", "0003_archive.sql", "0004_worker.sql",
                    "0005_inbox_retention.plain.sql", "0006_outbound_queue.sql", "0007_command_effects.sql",
                    "0008_abandoned_calls.sql", "0009_pending_command_limit.sql",
                    "0010_station_credentials.sql", "0011_lean_ingest.sql",
                    "0012_every_sample_fresh_answers.sql", "0013_id_tags_case_insensitive.sql",
                    "0014_station_security_profile.sql", "0015_issued_certificates.sql",
                    "0016_timescale_upkeep.plain.sql", "0017_append_only_journal.sql",
                    "0018_late_values_refresh.plain.sql", "0019_append_only_retention.plain.sql",
                ])
            for table in Self.domainTables {
                let exists = try await client.scalar(
                    "SELECT to_regclass(\("ocpp." + table)) IS NOT NULL", as: Bool.self)
                #expect(exists, "table ocpp.\(table)")
            }
            #expect(try await client.scalar("SELECT ocpp.storage_path()", as: String.self) == "plain")
            #expect(try await TestDatabase.migrate(client).isEmpty)
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.schema_migrations", as: Int.self) == 19)
        }
    }

    @Test func refusesToRunWhenAnAppliedFileChanged() async throws {
        let directory = try Self.copyOfMigrations()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client, directory: directory)
            let file = directory.appendingPathComponent("0001_schema.sql")
            try (String(contentsOf: file, encoding: .utf8) + "\n-- edited\n").write(
                to: file, atomically: true, encoding: .utf8)
            await #expect(throws: MigrationError.changedAfterApply("0001_schema.sql")) {
                try await TestDatabase.migrate(client, directory: directory)
            }
        }
    }

    @Test func appliesANewFileAndRollsBackAFailingOne() async throws {
        let directory = try Self.copyOfMigrations()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client, directory: directory)
            try "CREATE TABLE ocpp.extra (id int); SELECT no_such_function();"
                .write(to: directory.appendingPathComponent("0099_broken.sql"), atomically: true, encoding: .utf8)
            do {
                _ = try await TestDatabase.migrate(client, directory: directory)
                Issue.record("a failing migration must throw")
            } catch let error as MigrationError {
                guard case .failed(let file, let statement, _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(file == "0099_broken.sql")
                #expect(statement == 2)
            }
            #expect(try await client.scalar("SELECT to_regclass('ocpp.extra') IS NULL", as: Bool.self))
        }
    }

    @Test func concurrentRunsApplyTheSchemaOnce() async throws {
        try await TestDatabase.withFreshDatabase { _, configuration in
            let results = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        // Four processes: each its own client and connection.
                        try await PostgresClient.withClient(configuration: configuration, logger: TestDatabase.logger) {
                            try await TestDatabase.migrate($0)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { !$0.isEmpty }.count == 1)
            #expect(results.flatMap { $0 }.count == 19)
            let recorded = try await PostgresClient.withClient(
                configuration: configuration, logger: TestDatabase.logger
            ) {
                try await $0.scalar("SELECT count(*) FROM ocpp.schema_migrations", as: Int.self)
            }
            #expect(recorded == 19)
        }
    }

    @Test func seedingTwiceChangesNothing() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            for _ in 0..<2 {
                try await DemoData.seed(client: client, logger: TestDatabase.logger)
                #expect(try await client.scalar("SELECT count(*) FROM ocpp.stations", as: Int.self) == 1)
                #expect(try await client.scalar("SELECT count(*) FROM ocpp.connectors", as: Int.self) == 2)
                #expect(try await client.scalar("SELECT count(*) FROM ocpp.id_tags", as: Int.self) == 4)
                #expect(
                    try await client.scalar(
                        "SELECT registration_status FROM ocpp.stations WHERE identity = 'DEMO-STATION'", as: String.self
                    )
                        == "Accepted")
            }
        }
    }

    static func copyOfMigrations() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: TestDatabase.migrationsDirectory, to: directory)
        return directory
    }
}
