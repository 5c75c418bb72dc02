import NIOCore
import NIOWebSocket

/// A complete message from a station.
enum StationSocketMessage: Sendable, Equatable {
    case text(String)
    /// OCPP-J carries JSON text only: the session closes the connection.
    case binary
}

/// What a station's socket tells its session, on the channel's event loop. Each
/// call must return at once.
protocol StationSocketDelegate {
    /// A complete message. Nothing more is handed over or read from the socket
    /// until ``StationSocketHandler/ready()``.
    func socket(_ socket: StationSocket, received message: StationSocketMessage)
    /// No message came for the idle timeout.
    func socketIsIdle(_ socket: StationSocket)
    /// The connection is gone: nothing more arrives and writes fail.
    func socketClosed(_ socket: StationSocket)
}

/// A station's WebSocket as the upgrade hands it to the session: its channel and,
/// for code on the channel's event loop (the session), its handler.
final class StationSocket: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<StationSocketHandler>

    init(channel: any Channel, handler: StationSocketHandler) {
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
    }

    /// The handler itself, for a caller already on the channel's event loop.
    var handlerOnLoop: StationSocketHandler { handler.value }
}
