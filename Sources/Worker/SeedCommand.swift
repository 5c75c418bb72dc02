import ArgumentParser
import Logging
import OCPP
import PostgresNIO
import Shared

struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed", abstract: "Add the demo station DEMO-STATION and demo id tags (idempotent).")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await runReportingErrors {
            let logger = Logger.worker("seed")
            let configuration = try database.databaseConfiguration().configuration
            try await PostgresClient.withClient(configuration: configuration, logger: logger) { client in
                try await DemoData.seed(client: client, logger: logger)
            }
        }
    }
}
