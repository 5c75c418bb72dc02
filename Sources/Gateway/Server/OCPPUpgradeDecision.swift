import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore

/// Runs one accepted WebSocket: reads `inbound.messages(maxSize:)`, writes with
/// `outbound.write(.text(...))`, and may end it with `outbound.close(_:reason:)`.
///
/// The socket lives exactly as long as the handler: returning closes with 1000, throwing
/// closes with 1011. Same shape as HummingbirdWebSocket's `WebSocketDataHandler`, so the
/// session code does not depend on which server channel accepted the station.
typealias OCPPWebSocketHandler = WebSocketDataHandler<OCPPWebSocketContext>

/// Decides what to do with one WebSocket upgrade request, before anything is sent back.
///
/// Gets the request head (path, `Authorization`, `Sec-WebSocket-Protocol`…), the connection's
/// `Channel` (for the peer address and, behind TLS, the client certificate) and a logger.
/// It runs in a task, off the event loop, so it may await a database. A thrown error is
/// logged and answered with 500.
typealias OCPPUpgradeDecider = @Sendable (HTTPRequest, any Channel, Logger) async throws -> OCPPUpgradeDecision

/// The answer to an upgrade request.
enum OCPPUpgradeDecision: Sendable {
    /// Switch protocols: answer 101 with `headers` added to the ones the handshake needs
    /// (put the chosen `Sec-WebSocket-Protocol` here), then run `handler` on the socket.
    case upgrade(headers: HTTPFields = [:], handler: OCPPWebSocketHandler)
    /// Refuse with this status and headers (e.g. 401 with `WWW-Authenticate`). The channel
    /// adds `Connection: close` and `Content-Length: 0` and closes the connection.
    case refuse(status: HTTPResponse.Status, headers: HTTPFields = [:])
}

/// What a WebSocket handler is given besides the two streams.
struct OCPPWebSocketContext: WebSocketContext {
    let logger: Logger
    /// The upgrade request the station sent, as the decider saw it.
    let request: HTTPRequest
    /// Fires when the server shuts down gracefully; the handler then closes the
    /// socket itself, when it is ready to.
    let shutdown = ShutdownSignal()
}
