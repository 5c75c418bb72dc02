import ArgumentParser
import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared

/// `--database-url`, or `DATABASE_URL` from the environment: the flag wins.
struct DatabaseConnectionOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL of the central system (env DATABASE_URL).")
    var databaseURL: String?

    func configuration() throws -> PostgresClient.Configuration {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw SimulatorError("DATABASE_URL is not set (or pass --database-url)")
        }
        do {
            return try DatabaseURL(url).configuration
        } catch {
            throw SimulatorError(error.description)
        }
    }
}
