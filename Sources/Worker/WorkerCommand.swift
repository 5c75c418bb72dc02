import ArgumentParser

@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocpp-worker",
        abstract: "The OCPP central system's worker: schema migrations and demo data.",
        subcommands: [MigrateCommand.self, SeedCommand.self]
    )
}
