import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared
import Testing

/// A fresh, empty database per test on the server of `DATABASE_URL`, which the test
/// command (`scripts/test`) starts. Without it these tests fail with a clear message:
/// database behaviour is never faked.
public enum TestDatabase {
    /// At `warning`, or at the level `OCPP_TEST_LOG_LEVEL` names (`trace` shows the
    /// connection pool's every step, for a test that stalls).
    public static let logger: Logger = {
        var logger = Logger(label: "tests")
        logger.logLevel =
            ProcessInfo.processInfo.environment["OCPP_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()

    public static var serverConfiguration: PostgresClient.Configuration {
        get throws { try serverConfiguration(from: "DATABASE_URL") }
    }

    /// The server a URL in the environment variable `variable` names.
    public static func serverConfiguration(from variable: String) throws -> PostgresClient.Configuration {
        guard let url = ProcessInfo.processInfo.environment[variable] else {
            throw ConfigurationError(setting: variable, reason: "is not set: run the tests with scripts/test")
        }
        return try DatabaseURL(url).configuration
    }

    /// The repository's `sql/` folder (this file is in `Tests/TestSupport/`).
    public static let migrationsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("sql")

    /// Creates a database on the server `serverVariable` names, runs `body` with a
    /// client for it, and drops it after.
    public static func withFreshDatabase<Result: Sendable>(
        serverVariable: String = "DATABASE_URL",
        _ body: @Sendable (PostgresClient, PostgresClient.Configuration) async throws -> Result
    ) async throws -> Result {
        let server = try serverConfiguration(from: serverVariable)
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await PostgresClient.withClient(configuration: server, logger: logger) { admin in
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        var database = server
        database.database = String(name)
        let configuration = database
        do {
            let result = try await PostgresClient.withClient(configuration: configuration, logger: logger) {
                try await body($0, configuration)
            }
            try await drop(String(name), server: server)
            return result
        } catch {
            try? await drop(String(name), server: server)
            // PSQLError hides the server's message from its description; tests want it.
            if let error = error as? PSQLError {
                throw DatabaseTestError(message: error.serverInfo?[.message] ?? String(reflecting: error))
            }
            throw error
        }
    }

    private static func drop(_ name: String, server: PostgresClient.Configuration) async throws {
        try await PostgresClient.withClient(configuration: server, logger: logger) { admin in
            try await admin.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
    }

    public static func migrate(_ client: PostgresClient, directory: URL = migrationsDirectory) async throws -> [String]
    {
        try await MigrationRunner(client: client, directory: directory, logger: logger).run()
    }
}

extension PostgresClient {
    /// The single value of a one-row, one-column query.
    public func scalar<Value: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as type: Value.Type = Value.self
    )
        async throws -> Value
    {
        let rows = try await self.query(query, logger: TestDatabase.logger)
        // Drained to the end: a row sequence left unfinished keeps its pool lease.
        guard let row = try await rows.collect().first else { throw NoRowsError() }
        return try row.decode(Value.self)
    }
}

public struct NoRowsError: Error {}

public struct DatabaseTestError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "PostgreSQL: \(message)" }
}
