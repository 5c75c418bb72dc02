import NIOCore
import NIOWebSocket

/// A complete message from a station.
enum StationSocketMessage: Sendable, Equatable {
    case text(String)
    /// OCPP-J carries JSON text only: the session closes the connection.
    case binary
}

/// What a station's socket tells its session, on the channel's event loop. Each
/// call must return at once; the work it starts runs in a task.
protocol StationSocketDelegate {
    /// A complete message. Nothing more is handed over or read from the socket
    /// until ``StationSocket/ready()``.
    func socket(_ socket: StationSocket, received message: StationSocketMessage)
    /// No message came for the idle timeout.
    func socketIsIdle(_ socket: StationSocket)
    /// The connection is gone: nothing more arrives and writes fail.
    func socketClosed(_ socket: StationSocket)
}

/// A station's WebSocket as the session uses it, from any task: every call is
/// carried out by the ``StationSocketHandler`` on the channel's event loop.
final class StationSocket: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<StationSocketHandler>

    init(channel: any Channel, handler: StationSocketHandler) {
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
    }

    /// The handler itself, for a caller already on the channel's event loop.
    var handlerOnLoop: StationSocketHandler { handler.value }

    /// Writes a text message; returns once it is handed to the operating system,
    /// so a station that does not read holds its session back rather than filling
    /// the gateway's memory. Throws when the socket is closing or closed.
    func write(text: String) async throws {
        try await write(ByteBuffer(string: text))
    }

    /// ``write(text:)`` for a message already encoded as UTF-8 (a frame the codec wrote).
    func write(utf8 bytes: [UInt8]) async throws {
        try await write(ByteBuffer(bytes: bytes))
    }

    private func write(_ text: ByteBuffer) async throws {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute { self.handler.value.write(text: text, promise: promise) }
        try await promise.futureResult.get()
    }

    /// Starts the close handshake; returns once the close frame is written (at
    /// once when the socket is already closing).
    func close(code: WebSocketErrorCode, reason: String?) async {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute { self.handler.value.close(code: code, reason: reason, promise: promise) }
        try? await promise.futureResult.get()
    }

    /// The session is ready for the next message.
    func ready() {
        channel.eventLoop.execute { self.handler.value.ready() }
    }

    /// Runs `action` after `delay`, on the event loop: a timer that costs no task.
    func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) {
        channel.eventLoop.scheduleTask(in: .init(delay), action)
    }
}
