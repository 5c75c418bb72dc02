import ArgumentParser
import Foundation
import Logging
import NIOCore
import OCPP
import PostgresNIO
import Shared

/// `ocpp-sim commands`: the outbound queue's enqueue-to-delivery latency with many
/// connected stations that answer every command.
struct CommandsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commands",
        abstract: "Benchmark queued commands: enqueue-to-delivery latency with many connected stations.",
        discussion: """
            Connects --stations stations that answer every CALL, then enqueues --action commands with \
            SELECT ocpp.enqueue_call(...) at --rate per second for --duration seconds, each for a random \
            station, and reports how long each took from just before its enqueue statement was sent to \
            the moment its station received the CALL (matched by the message id enqueue_call returns).
            """)

    @OptionGroup var fleet: FleetOptions
    @OptionGroup var database: DatabaseConnectionOptions

    @Option(help: "Commands enqueued per second.")
    var rate: Double = 100

    @Option(help: "Seconds of enqueuing.")
    var duration: Double = 30

    @Option(help: "The command to enqueue with {}: GetLocalListVersion, ClearCache or GetConfiguration.")
    var action: String = "GetLocalListVersion"

    @Flag(help: "Print the figures as JSON instead of a table.")
    var json = false

    func validate() throws {
        guard rate > 0, duration > 0 else { throw ValidationError("--rate and --duration must be positive") }
        guard Self.actionsWithoutPayload.contains(action) else {
            throw ValidationError(
                "--action must be one of \(Self.actionsWithoutPayload.joined(separator: ", ")) (sent with {})")
        }
    }

    /// The commands whose request is valid as `{}`.
    static let actionsWithoutPayload = ["GetLocalListVersion", "ClearCache", "GetConfiguration"]

    func run() async throws {
        let logger = Logger.simulator("commands")
        let databaseConfiguration = try database.configuration()
        let probe = CommandLatencyProbe()
        var settings = try fleet.settings(defaultPrefix: "CMD-")
        settings.onCommand = { id, _, receivedAt in probe.commandReceived(messageID: id, receivedAt: receivedAt) }
        let stations = fleet.stations ?? 1000
        let stationFleet = try await StationFleet(count: stations, settings: settings)
        do {
            try await stationFleet.connectAll(rate: fleet.rampRate)
            try await stationFleet.waitUntilReady(timeout: .seconds(Double(stations) / fleet.rampRate + 30))
            let identities = (0..<stations).map(settings.identity(of:))
            let result = try await PostgresClient.withClient(
                configuration: databaseConfiguration, logger: .databasePool()
            ) { client in
                try await probe.run(
                    client: client, identities: identities, action: action, rate: rate,
                    duration: .seconds(duration), settle: .seconds(10), logger: logger)
            }
            let report = CommandsReport(
                stations: stations, rate: rate, duration: duration, action: action, result: result)
            print(json ? report.json : report.table)
            try await stationFleet.shutdown()
            if result.delivered < result.enqueued || result.enqueueFailures > 0 { throw ExitCode(1) }
        } catch {
            try? await stationFleet.shutdown()
            throw error
        }
    }
}

/// The benchmark's figures, for people and for scripts.
struct CommandsReport {
    var stations: Int
    var rate: Double
    var duration: Double
    var action: String
    var result: CommandLatencyProbe.Result

    var table: String {
        let delivery = result.delivery.summary
        let roundTrip = result.enqueueRoundTrip.summary
        var lines = [
            "outbound commands: \(action) to \(stations) connected stations, \(Report.number(rate))/s for \(Report.number(duration)) s",
            "",
            "| figure | value |",
            "|---|---:|",
            "| enqueued | \(result.enqueued) |",
            "| delivered | \(result.delivered) |",
            "| enqueue failures | \(result.enqueueFailures) |",
        ]
        lines += Report.latencyRows("enqueue → delivery", delivery)
        lines += Report.latencyRows("enqueue round trip", roundTrip)
        return lines.joined(separator: "\n")
    }

    var json: String {
        var writer = JSONWriter()
        writer.value(
            .object(
                JSONObject([
                    (key: "action", value: .string(action)),
                    (key: "stations", value: .integer(Int64(stations))),
                    (key: "rate", value: .double(rate)),
                    (key: "durationSeconds", value: .double(duration)),
                    (key: "enqueued", value: .integer(Int64(result.enqueued))),
                    (key: "delivered", value: .integer(Int64(result.delivered))),
                    (key: "enqueueFailures", value: .integer(Int64(result.enqueueFailures))),
                    (key: "deliveryMs", value: Report.json(result.delivery.summary)),
                    (key: "enqueueRoundTripMs", value: Report.json(result.enqueueRoundTrip.summary)),
                ])))
        return writer.string
    }
}
