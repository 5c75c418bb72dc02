import ArgumentParser
import Foundation

/// `ocpp-sim storm`: every station drops and reconnects at once.
struct StormCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storm",
        abstract: "Reconnect storm: drop every station's connection at once; time until all are booted again.",
        discussion: """
            Connects and boots --stations stations at --ramp-rate, keeps them idle for --hold seconds, then \
            closes every connection at once without a closing handshake (as a gateway restart does) and \
            reconnects each at once. Reports the time until every station's BootNotification was Accepted \
            again, per-station percentiles, and how often the gateway deferred an upgrade (503, retried after \
            its Retry-After) or a boot (Pending, retried after its interval). With --no-drop it only \
            connects and holds, for reading the gateway's memory per idle connection; a line on standard \
            error says when every station is booted.
            """)

    @OptionGroup var fleet: FleetOptions

    @Option(help: "Seconds every station stays connected and idle before the drop.")
    var hold: Double = 0

    @Flag(help: "Connect, boot and hold only; do not drop.")
    var noDrop = false

    @Option(help: "Seconds to wait for every station to boot again (and, beyond the ramp, to boot at first).")
    var timeout: Double = 300

    @Flag(help: "Print the figures as JSON instead of a table.")
    var json = false

    func validate() throws {
        guard hold >= 0 else { throw ValidationError("--hold must not be negative") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let stations = fleet.stations ?? 1000
        FileDescriptorLimit.raise(toAtLeast: stations + 256)
        let hold = self.hold
        let run = StormRun(
            stations: stations, settings: try fleet.settings(defaultPrefix: "STORM-"), rampRate: fleet.rampRate,
            hold: .seconds(hold), drop: !noDrop, timeout: .seconds(timeout),
            onReady: { rampSeconds in
                FileHandle.standardError.write(
                    Data(
                        "storm: \(stations) stations connected and booted in \(Report.number(rampSeconds.rounded())) s; holding \(Report.number(hold)) s\n"
                            .utf8))
            })
        let report = try await run.execute()
        print(json ? report.json : report.table)
        if !report.complete { throw ExitCode(1) }
    }
}
