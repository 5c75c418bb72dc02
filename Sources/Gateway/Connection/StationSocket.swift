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

/// A station's WebSocket as code off its event loop sees it: every call is carried
/// out by the ``StationSocketHandler`` on the channel's event loop. The session
/// itself runs on that loop and uses the handler directly (``handlerOnLoop``).
final class StationSocket: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<StationSocketHandler>

    init(channel: any Channel, handler: StationSocketHandler) {
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
    }

    /// The handler itself, for a caller already on the channel's event loop.
    var handlerOnLoop: StationSocketHandler { handler.value }

    /// Writes a text message from any task; returns once it is handed to the
    /// operating system. Throws when the socket is closing or closed.
    func write(text: String) async throws {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let data = ByteBuffer(string: text)
        channel.eventLoop.execute { self.handler.value.write(text: data, promise: promise) }
        try await promise.futureResult.get()
    }

    /// The session is ready for the next message.
    func ready() {
        channel.eventLoop.execute { self.handler.value.ready() }
    }
}
