import Foundation
import NIOCore
import NIOWebSocket

/// A live station connection as the rest of the gateway holds it: the registry, the
/// NOTIFY listener and the drain, from their own tasks. Each call hops onto the
/// connection's event loop, where its ``StationSessionHandler`` decides.
final class StationConnection: Sendable {
    let station: StationContext
    let sessionID: UUID
    private let session: NIOLoopBound<StationSessionHandler>

    init(station: StationContext, sessionID: UUID, session: StationSessionHandler, on eventLoop: any EventLoop) {
        self.station = station
        self.sessionID = sessionID
        self.session = NIOLoopBound(session, eventLoop: eventLoop)
    }

    /// Closes the connection, after the message in hand (if any) is answered.
    func close(code: WebSocketErrorCode, reason: String) {
        session.eventLoop.execute { [session] in
            session.value.closeRequested(.init(code: code, reason: reason))
        }
    }

    /// Asks for the station's due commands to be looked for (a NOTIFY came).
    func deliverOutbound() {
        session.eventLoop.execute { [session] in session.value.wake() }
    }
}
