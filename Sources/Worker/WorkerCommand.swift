import ArgumentParser

@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocpp-worker",
        abstract: "The OCPP central system's worker: applies work rows, runs maintenance, migrations and demo data.",
        subcommands: [RunCommand.self, MigrateCommand.self, SeedCommand.self, ProvisionCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
