import ArgumentParser
import Foundation
import NIOPosix

/// `ocpp-sim station URL`: one charge point, printing every message.
struct StationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "station",
        abstract: "Run one charge point: boot, heartbeat, status, and answer every command.",
        discussion: """
            The URL ends with the station's identity, e.g. ws://localhost:3000/ocpp/DEMO-STATION. \
            Runs until Ctrl-C, reconnecting when the connection drops and rebooting after a Reset. \
            With --script it runs one charging session from the flags instead and exits: 0 when \
            everything was accepted, 1 when anything was refused.
            """)

    @Argument(help: "ws:// or wss:// URL ending with the station identity.")
    var url: String

    @Option(help: "Basic-auth password (security profile 1 and 2); the user is the identity.")
    var password: String?

    @Option(help: "Number of connectors.")
    var connectors: Int = 2

    @Option(help: "Simulated seconds between MeterValues while charging.")
    var meterInterval: Double = 60

    @Option(help: "Simulated time runs this many times faster (meter intervals, firmware and upload steps).")
    var speed: Double = 1

    @Option(help: "chargePointVendor of the BootNotification.")
    var vendor: String = "SwiftOCPP"

    @Option(help: "chargePointModel of the BootNotification.")
    var model: String = "ocpp-sim"

    @Flag(help: "Accept any TLS server certificate (wss:// to a test server).")
    var insecure = false

    @Flag(help: "Run one charging session from the flags below, then exit.")
    var script = false

    @Option(help: "Scripted: the id tag to charge with.")
    var idTag: String = "DEMO-TAG"

    @Option(help: "Scripted: simulated minutes of charging.")
    var chargeMinutes: Double = 2

    @Option(help: "Scripted: the connector to charge at.")
    var connector: Int = 1

    @Flag(help: "Do not print the messages.")
    var quiet = false

    func validate() throws {
        guard (1...100).contains(connectors) else { throw ValidationError("--connectors must be 1 to 100") }
        guard meterInterval > 0 else { throw ValidationError("--meter-interval must be positive") }
        guard speed > 0 else { throw ValidationError("--speed must be positive") }
        guard chargeMinutes > 0 else { throw ValidationError("--charge-minutes must be positive") }
        guard (1...connectors).contains(connector) else {
            throw ValidationError("--connector must be between 1 and --connectors")
        }
        guard !idTag.isEmpty, idTag.count <= 20 else { throw ValidationError("--id-tag must have 1 to 20 characters") }
        guard vendor.count <= 20, model.count <= 20 else {
            throw ValidationError("--vendor and --model have at most 20 characters")
        }
        _ = try StationEndpoint.splitStationURL(url)
    }

    func run() async throws {
        let (endpoint, identity) = try StationEndpoint.splitStationURL(url)
        var settings = StationSettings(
            identity: identity, connector: try WebSocketConnector(endpoint: endpoint, verifyCertificates: !insecure),
            password: password)
        settings.connectors = connectors
        settings.meterInterval = meterInterval
        settings.speed = speed
        settings.vendor = vendor
        settings.model = model
        settings.printer.isEnabled = !quiet
        let station = StationRunner(settings: settings, group: MultiThreadedEventLoopGroup.singleton)

        guard script else {
            // Until Ctrl-C: the signal ends the process, the server sees the connection drop.
            try await station.run()
            return
        }
        let chargingScript = ChargingScript(idTag: idTag, connectorID: connector, chargeMinutes: chargeMinutes)
        let summary = try await StationScript.run(chargingScript, on: station)
        print(
            "scripted session done: transaction \(summary.transactionID), \(summary.meterValues) MeterValues "
                + "(\(summary.sampledValues) sampled values), \(summary.energyWh) Wh")
    }
}

/// Runs a charging script over one connection; a lost connection fails it.
enum StationScript {
    static func run(_ script: ChargingScript, on station: StationRunner) async throws -> ScriptSummary {
        let result = ScriptResult()
        let end = try await station.connectAndRun { station in
            await result.set(try await station.runScript(script))
        }
        guard end == .finished, let summary = await result.value else {
            throw SimulatorError("the connection closed before the session ended")
        }
        return summary
    }
}

private actor ScriptResult {
    var value: ScriptSummary?
    func set(_ summary: ScriptSummary) { value = summary }
}
