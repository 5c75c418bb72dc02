import ArgumentParser

/// `ocpp-sim`: OCPP 1.6J charge points for people (one station), for load (many) and
/// for checking that what the central system acknowledged was stored.
@main
struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocpp-sim",
        abstract: "OCPP 1.6J charge-point simulator and load generator.",
        subcommands: [
            StationCommand.self, LoadCommand.self, VerifyCommand.self, CommandsCommand.self, ResendCommand.self,
            StormCommand.self, FloorCommand.self,
        ])
}
