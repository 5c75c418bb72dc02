import ArgumentParser
import NIOCore
import NIOPosix

/// `ocpp-sim floor`: a central system that answers every CALL at once and stores
/// nothing, for measuring what a message costs below the gateway's own work.
struct FloorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "floor",
        abstract: "A central system that answers at once and stores nothing: the floor of the gateway's CPU.",
        discussion: """
            Listens for OCPP-J 1.6 WebSocket connections (any path, subprotocol ocpp1.6) on SwiftNIO's \
            event loops, as the gateway does, and answers each CALL the load generator sends \
            (BootNotification Accepted, StartTransaction with a new transaction id, the empty or \
            current-time answer of the others) without a database. By default it reads only the message \
            id and the action of each frame: the cost of the WebSocket connection alone. With --decode \
            it also decodes and validates every frame and its payload with the protocol core and encodes \
            the typed answer: the protocol's work too. scripts/bench runs it as gateway-floor; it is a \
            measuring instrument, not a central system.
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port; the port is printed on standard output).")
    var port = 0

    @Flag(help: "Decode and validate every frame and payload, and encode typed answers.")
    var decode = false

    func run() async throws {
        let channel = try await FloorServer.bind(host: host, port: port, decode: decode)
        print("listening on \(channel.localAddress?.port ?? port)")
        try await channel.closeFuture.get()
    }
}
