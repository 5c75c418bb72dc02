import ArgumentParser

/// The WebSocket gateway stations connect to. Its server arrives with the gateway
/// issue; until then the command only describes itself and refuses to start.
@main
struct GatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocpp-gateway",
        abstract: "The OCPP central system's WebSocket gateway (not yet available in this version)."
    )

    func run() throws {
        print("ocpp-gateway: the WebSocket server is not part of this version yet")
        throw ExitCode(1)
    }
}
