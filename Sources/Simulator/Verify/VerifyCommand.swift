import ArgumentParser
import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared

/// `ocpp-sim verify --journal FILE`: checks a load run's acknowledged messages
/// against the database.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that everything a load run saw acknowledged is stored, once.",
        discussion: """
            Reads the journal a load run wrote (--journal), waits until the worker has applied every \
            inbox row (at most --drain-timeout seconds), then compares: each acknowledged StartTransaction \
            must be a transaction row with the id it was given, each acknowledged StopTransaction must have \
            stopped it, each acknowledged sampled value must be a meter_values row, and no start may be \
            stored twice. Prints every difference and exits 1 when there is one.
            """)

    @Option(help: "The journal file written by `load --journal`.")
    var journal: String

    @OptionGroup var database: DatabaseConnectionOptions

    @Option(help: "Seconds to wait for the worker to drain the inbox.")
    var drainTimeout: Double = 120

    func validate() throws {
        guard drainTimeout >= 0 else { throw ValidationError("--drain-timeout must not be negative") }
    }

    func run() async throws {
        let journal = try AckJournal.read(from: URL(fileURLWithPath: self.journal))
        let passed = try await Self.verify(
            journal, database: try database.configuration(), drainTimeout: .seconds(drainTimeout))
        if !passed { throw ExitCode(1) }
    }

    /// Waits for the inbox, verifies and prints the report; true when it passed.
    static func verify(
        _ journal: AckJournal, database: PostgresClient.Configuration, drainTimeout: Duration
    ) async throws -> Bool {
        let logger = Logger.simulator("verify")
        let report = try await PostgresClient.withClient(configuration: database, logger: .databasePool()) { client in
            let verifier = Verifier(client: client, logger: logger)
            guard try await verifier.waitForDrainedInbox(timeout: drainTimeout) else {
                throw SimulatorError("the inbox still has unprocessed rows after \(drainTimeout): is a worker running?")
            }
            return try await verifier.verify(journal)
        }
        print(report.text)
        return report.passed
    }
}
