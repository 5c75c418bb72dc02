import Foundation
import Logging
import NIOCore
import OCPP
import Shared

/// What every station session of the gateway shares, and where they start.
struct StationSessions: Sendable {
    let dependencies: ConnectionDependencies
    let registry: ConnectionRegistry
    let drain: SessionDrain
    /// Each connection's message rate: a token bucket (a ``TokenBucket``).
    var maxMessageRate = 0
    var messageBurst = 1

    /// The session of a socket just accepted for `station`, on the socket's event
    /// loop; it records the session and lets the socket read once that is done.
    func start(
        station: StationContext, registration: RegistrationStatus, subprotocol: String?, remoteAddress: String?,
        socket: StationSocket, logger: Logger
    ) -> StationSessionHandler {
        var logger = logger
        logger[metadataKey: "station"] = "\(station.identity)"
        let session = StationSessionHandler(
            sessions: self, station: station, registration: registration, hasSubprotocol: subprotocol != nil,
            remoteAddress: remoteAddress, socket: socket.handlerOnLoop, eventLoop: socket.channel.eventLoop,
            logger: logger)
        session.start()
        return session
    }
}

/// One WebSocket session of a station: its id and when it began (RFC 3339 text, as
/// stored in the session row and in the connect and disconnect work rows).
struct SessionIdentity: Sendable {
    var id: UUID
    var connectedAt: String
}
