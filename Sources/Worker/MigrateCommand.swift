import ArgumentParser
import Logging
import OCPP
import PostgresNIO
import Shared

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending schema migrations and exit.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await runReportingErrors {
            let logger = Logger.worker("migrate")
            let configuration = try database.databaseConfiguration().configuration
            let directory = database.migrationsURL()
            try await PostgresClient.withClient(configuration: configuration, logger: logger) { client in
                try await MigrationRunner(client: client, directory: directory, logger: logger).run()
            }
        }
    }
}
