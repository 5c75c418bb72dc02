import ArgumentParser
import Foundation
import NIOCore

/// `ocpp-sim load`: many stations, an open-loop message schedule, ack latency.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Drive many stations at a fixed message rate and measure ack latency.",
        discussion: """
            Connects --stations stations at --ramp-rate per second (spread over --source-addresses), \
            boots each, then sends --rate messages per second in all for --duration seconds: a \
            realistic mix of StatusNotification, StartTransaction, MeterValues with ten sampled values \
            (most of the traffic), StopTransaction and Heartbeat. The schedule is open loop: each message \
            has an intended send time, and its latency runs from that time to its CALLRESULT or CALLERROR, \
            so a slow server cannot hide behind messages that were never sent. With --journal the \
            acknowledged transactions and sampled values are written for `verify`; --verify checks them \
            at the end. With --mix meter-values each station starts one transaction and then sends only \
            MeterValues with ten sampled values (to measure what one such message costs).
            """)

    @OptionGroup var fleet: FleetOptions

    @Option(help: "Messages per second, all stations together.")
    var rate: Double = 1000

    @Option(help: "Seconds of scheduled traffic (after every station has booted).")
    var duration: Double = 30

    @Option(
        help: ArgumentHelp(
            "What the stations send: charging (the realistic cycle) or meter-values (one StartTransaction, "
                + "then only MeterValues with ten sampled values).", valueName: "mix"))
    var mix = StationTraffic.Mix.charging

    @Option(help: "Write what was acknowledged to this file (for `verify`).")
    var journal: String?

    @Flag(help: "Verify against the database at the end (needs DATABASE_URL and a running worker).")
    var verify = false

    @OptionGroup var database: DatabaseConnectionOptions

    @Option(help: "With --verify: seconds to wait for the worker to drain the inbox.")
    var drainTimeout: Double = 120

    @Flag(help: "Print the figures as JSON instead of a table.")
    var json = false

    func validate() throws {
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        if verify { _ = try database.configuration() }
    }

    func run() async throws {
        let stations = fleet.stations ?? 100
        FileDescriptorLimit.raise(toAtLeast: stations + 256)
        var settings = try fleet.settings(defaultPrefix: "SIM-")
        settings.mix = mix
        let run = LoadRun(
            stations: stations, settings: settings, rampRate: fleet.rampRate, rate: rate, duration: .seconds(duration))
        let outcome = try await run.execute()
        print(json ? outcome.report.json : outcome.report.table)
        if let journal { try outcome.journal.write(to: URL(fileURLWithPath: journal)) }
        var passed = true
        if verify {
            passed = try await VerifyCommand.verify(
                outcome.journal, database: try database.configuration(), drainTimeout: .seconds(drainTimeout))
        }
        if !passed { throw ExitCode(1) }
    }
}

/// One load run from connecting to the figures; the command and the tests use it.
struct LoadRun: Sendable {
    var stations: Int
    var settings: StationFleetSettings
    var rampRate: Double
    var rate: Double
    var duration: Duration
    /// How long to wait for the last answers after the schedule ends.
    var settleTimeout = Duration.seconds(30)

    struct Outcome: Sendable {
        var report: LoadReport
        var journal: AckJournal
    }

    func execute() async throws -> Outcome {
        let fleet = try await StationFleet(count: stations, settings: settings)
        do {
            let journalStart = Date()
            let rampStart = ContinuousClock.now
            try await fleet.connectAll(rate: rampRate)
            try await fleet.waitUntilReady(timeout: .seconds(Double(stations) / rampRate + 60))
            let rampTime = rampStart.duration(to: .now)
            let scheduleStart = ContinuousClock.now
            try await fleet.startSchedule(rate: rate, duration: duration)
            try await Task.sleep(for: duration)
            let settled = try await fleet.waitUntilDrained(timeout: settleTimeout)
            let elapsed = scheduleStart.duration(to: .now)
            var (statistics, journal) = try await fleet.results()
            try await fleet.shutdown()
            journal.startedAt = journalStart
            journal.unanswered = statistics.lost + statistics.timedOut + (settled ? 0 : 1)
            let report = LoadReport(
                stations: stations, rampSeconds: rampTime.seconds, duration: duration.seconds,
                elapsed: elapsed.seconds, rate: rate, settled: settled, statistics: statistics)
            return Outcome(report: report, journal: journal)
        } catch {
            try? await fleet.shutdown()
            throw error
        }
    }
}

extension StationTraffic.Mix: ExpressibleByArgument {}
