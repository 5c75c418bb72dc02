import ArgumentParser
import Foundation
import Logging
import OCPP
import Shared

/// The settings every worker command needs to reach the database. Each has a flag
/// and an environment variable; the flag wins.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL (env DATABASE_URL).")
    var databaseURL: String?

    @Option(
        name: .customLong("migrations-dir"),
        help: "Folder of the numbered SQL migrations (env OCPP_MIGRATIONS_DIR; default ./sql).")
    var migrationsDirectory: String?

    func databaseConfiguration() throws(ConfigurationError) -> DatabaseURL {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw ConfigurationError(setting: "DATABASE_URL", reason: "is not set (or pass --database-url)")
        }
        return try DatabaseURL(url)
    }

    func migrationsURL() -> URL {
        let path = migrationsDirectory ?? ProcessInfo.processInfo.environment["OCPP_MIGRATIONS_DIR"] ?? "sql"
        return URL(fileURLWithPath: path)
    }
}

/// Runs a command's body, turning configuration and migration errors into one line
/// on stderr and a non-zero exit.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ConfigurationError {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        throw ExitCode(2)
    } catch let error as MigrationError {
        FileHandle.standardError.write(Data("migration error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

extension Logger {
    static func worker(_ label: String) -> Logger {
        var logger = Logger(label: "ocpp-worker.\(label)")
        logger.logLevel = .info
        return logger
    }
}
