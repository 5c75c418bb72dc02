import HTTPTypes
import Logging
import NIOCore

/// Starts the session of an accepted WebSocket. Called on the channel's event loop
/// right after the 101 is sent; returns at once with the delegate that gets the
/// socket's messages (the session's own work runs in tasks it starts). The socket
/// reads nothing until the session calls ``StationSocket/ready()``.
typealias StationSocketAcceptor = @Sendable (StationSocket, OCPPWebSocketContext) -> any StationSocketDelegate

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
    /// (put the chosen `Sec-WebSocket-Protocol` here), then start the session with `accept`.
    case upgrade(headers: HTTPFields = [:], accept: StationSocketAcceptor)
    /// Refuse with this status and headers (e.g. 401 with `WWW-Authenticate`). The channel
    /// adds `Connection: close` and `Content-Length: 0` and closes the connection.
    case refuse(status: HTTPResponse.Status, headers: HTTPFields = [:])
}

/// What a session is given besides its socket.
struct OCPPWebSocketContext: Sendable {
    let logger: Logger
    /// The upgrade request the station sent, as the decider saw it.
    let request: HTTPRequest
}
