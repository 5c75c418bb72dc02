import Foundation
import OCPP
import Shared
import TestSupport
import Testing

@Suite("SQL script splitting and migration files")
struct SQLScriptTests {
    @Test func splitsAtTopLevelSemicolonsOnly() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'it''s; fine');
            /* block; comment */ CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
            CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 2; END $body$;
            SELECT "odd;name" FROM a;
            -- trailing comment
            """
        let statements = SQLScript.statements(in: script)
        #expect(statements.count == 4)
        #expect(statements[0].hasSuffix("DEFAULT 'it''s; fine')"))
        #expect(statements[1].hasSuffix("$$ SELECT 1; $$"))
        #expect(statements[2].contains("RETURN 2; END"))
        #expect(statements[3] == #"SELECT "odd;name" FROM a"#)
    }

    @Test func theRepositoryMigrationsLoadForBothPaths() throws {
        let plain = try Migration.load(from: TestDatabase.migrationsDirectory, for: .plain)
        let timescale = try Migration.load(from: TestDatabase.migrationsDirectory, for: .timescale)
        #expect(plain.map(\.version) == timescale.map(\.version))
        #expect(plain.contains { $0.name == "0002_time_series.plain.sql" })
        #expect(timescale.contains { $0.name == "0002_time_series.timescale.sql" })
        // The TimescaleDB functions never appear on the plain path.
        for migration in plain {
            for function in ["create_hypertable", "add_compression_policy", "add_retention_policy", "timescaledb"] {
                #expect(!migration.sql.contains(function), "\(migration.name) mentions \(function)")
            }
        }
    }

    @Test(arguments: ["1_schema.sql", "0001-schema.sql", "0001_Schema.sql", "0001_schema.other.sql"])
    func refusesBadFileNames(name: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "SELECT 1;".write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.self) { try Migration.load(from: directory, for: .plain) }
    }

    @Test func refusesAVersionWithOnlyOneVariant() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("half-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "SELECT 1;".write(
            to: directory.appendingPathComponent("0001_x.plain.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.ambiguousVersion(1, ["0001_x.plain.sql"])) {
            try Migration.load(from: directory, for: .plain)
        }
    }
}
