import ArgumentParser
import Foundation
import NIOPosix

/// `ocpp-sim resend`: transaction messages resent after a dropped connection.
struct ResendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resend",
        abstract: "Resend transaction messages after a dropped connection; check they are stored once.",
        discussion: """
            Each of --stations stations boots, then runs one transaction: StartTransaction, \
            --meter-values MeterValues and StopTransaction. Every one of these is sent, its connection \
            dropped (no closing handshake) 0 to --max-drop-delay-ms milliseconds later without reading \
            the answer, and sent again on a new connection with the same unique id, as OCPP 1.6 has a \
            charge point retry transaction-related messages. With --verify the database must hold each \
            exactly once: no duplicate transaction, sampled value or journaled CALL.
            """)

    @Option(help: "The central system's endpoint; each station appends its identity.")
    var url: String = "ws://localhost:3000/ocpp"

    @Option(help: "How many stations, each running one transaction at the same time.")
    var stations: Int = 10

    @Option(help: "Stations are named PREFIX0, PREFIX1, ...")
    var identityPrefix: String = "RESEND-"

    @Option(help: "MeterValues per transaction.")
    var meterValues: Int = 5

    @Option(help: "Longest wait between sending a CALL and dropping its connection, ms.")
    var maxDropDelayMs: Int = 20

    @Flag(help: "Resend under a new unique id, as some chargers do (the central system deduplicates by content).")
    var newIdOnResend = false

    @Option(help: "Write what was acknowledged to this file (for `verify`).")
    var journal: String?

    @Flag(help: "Verify against the database at the end (needs DATABASE_URL and a running worker).")
    var verify = false

    @OptionGroup var database: DatabaseConnectionOptions

    func validate() throws {
        guard stations >= 1 else { throw ValidationError("--stations must be at least 1") }
        guard meterValues >= 0 else { throw ValidationError("--meter-values must not be negative") }
        guard maxDropDelayMs >= 0 else { throw ValidationError("--max-drop-delay-ms must not be negative") }
        _ = try StationEndpoint(url: url)
        if verify { _ = try database.configuration() }
    }

    func run() async throws {
        FileDescriptorLimit.raise(toAtLeast: stations * 2 + 256)
        let scenario = ResendScenario(
            connector: try WebSocketConnector(endpoint: try StationEndpoint(url: url)), identityPrefix: identityPrefix,
            stations: stations, meterValues: meterValues, dropDelay: 0...maxDropDelayMs, newIDOnResend: newIdOnResend)
        let outcome = try await scenario.execute(group: MultiThreadedEventLoopGroup.singleton)
        print(
            "resend: \(stations) stations, \(outcome.resent) transaction messages each dropped before the answer "
                + "and resent (\(newIdOnResend ? "new" : "same") unique id), all answered, "
                + "in \(Report.number(outcome.elapsed.seconds.rounded())) s")
        if let journal { try outcome.journal.write(to: URL(fileURLWithPath: journal)) }
        if verify {
            let passed = try await VerifyCommand.verify(
                outcome.journal, database: try database.configuration(), drainTimeout: .seconds(120))
            if !passed { throw ExitCode(1) }
        }
    }
}
