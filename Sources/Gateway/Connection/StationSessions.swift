import Foundation
import Logging
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

    /// The session of a socket just accepted for `station`; it records the session
    /// and lets the socket read once that is done.
    func start(
        station: StationContext, registration: RegistrationStatus, subprotocol: String?, remoteAddress: String?,
        socket: StationSocket, logger: Logger
    ) -> StationSession {
        var logger = logger
        logger[metadataKey: "station"] = "\(station.identity)"
        let session = StationSession(
            sessions: self, station: station, remoteAddress: remoteAddress, socket: socket, logger: logger)
        session.start(registration: registration, subprotocol: subprotocol)
        return session
    }
}

/// One WebSocket session of a station: its id and when it began (RFC 3339 text, as
/// stored in the session row and in the connect and disconnect work rows).
struct SessionIdentity: Sendable {
    var id: UUID
    var connectedAt: String
}
