import Hummingbird
import OCPP
import Shared

/// What to do with a station's WebSocket upgrade request.
enum HandshakeDecision: Sendable {
    /// Upgrade; `subprotocol` is echoed (nil: it was not offered, so OCPP-J 1.6 says
    /// complete the handshake without it and close at once).
    case accept(StationContext, RegistrationStatus, subprotocol: String?)
    /// Answer with this status and close; for 401 with a `WWW-Authenticate` challenge.
    case refuse(HTTPResponse.Status, reason: String)
}
