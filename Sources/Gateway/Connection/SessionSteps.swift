import CoreMetrics
import Foundation
import Logging
import NIOWebSocket
import OCPP
import Shared

/// The database steps at the two ends of a station's session, run in short tasks by
/// its ``StationSessionHandler``: record the live session (closing the station's
/// previous one wherever it is) and journal the connect; at the end, leave the
/// registry, close the session row and journal the disconnect.
struct SessionSteps: Sendable {
    let sessions: StationSessions
    let station: StationContext
    let identity: SessionIdentity
    let remoteAddress: String?
    let logger: Logger

    private var dependencies: ConnectionDependencies { sessions.dependencies }
    var maxMessageRate: Int { sessions.maxMessageRate }

    enum Opening: Sendable {
        /// Recorded. `draining`: the gateway began shutting down meanwhile, so the
        /// connection closes at once.
        case opened(draining: Bool)
        /// Not recorded: the station should come back later.
        case failed
    }

    /// Records the session and makes `connection` the station's live one here.
    func open(_ connection: StationConnection) async -> Opening {
        do {
            // Bounded: until it returns, the connection reads nothing.
            try await DatabaseAttempt.run { [dependencies, station, identity, remoteAddress] in
                try await dependencies.stations.openSession(
                    stationID: station.stationID, sessionID: identity.id, gatewayID: dependencies.gatewayID,
                    remoteAddress: remoteAddress, connectedAt: identity.connectedAt)
            }
        } catch {
            logger.error("session not recorded: \(String(reflecting: error))")
            return .failed
        }
        if let previous = await sessions.registry.register(connection) {
            dependencies.metrics.takeovers.increment()
            previous.close(code: .normalClosure, reason: "replaced by a new connection")
        }
        dependencies.metrics.connections.increment()
        dependencies.metrics.connectionsOpened.increment()
        logger.info("connected")
        await journal(WorkItem.connected)
        // Read after registering: a drain that began before either sees this
        // connection in the registry or is seen here (``SessionDrain``).
        return .opened(draining: sessions.drain.isDraining)
    }

    /// Ends a session that was opened.
    func end() async {
        await sessions.registry.remove(stationID: station.stationID, sessionID: identity.id)
        dependencies.metrics.connections.decrement()
        // Bounded: a session row left open is closed by the next connection's open or
        // by the gateway's cleanup when it stops.
        _ = try? await DatabaseAttempt.run { [dependencies, station, identity] in
            try await dependencies.stations.closeSession(stationID: station.stationID, sessionID: identity.id)
        }
        await journal(WorkItem.disconnected)
        logger.info("disconnected")
    }

    /// Connect and disconnect work rows carry the session's id and start, from which
    /// the worker merges the station's online state in any order.
    private func journal(_ kind: (SessionEvent) -> WorkItem) async {
        var payload = JSONObject([
            (key: "sessionId", value: .string(identity.id.uuidString.lowercased())),
            (key: "gatewayId", value: .string(dependencies.gatewayID)),
            (key: "connectedAt", value: .string(identity.connectedAt)),
        ])
        if let remoteAddress { payload.members.append((key: "remoteAddress", value: .string(remoteAddress))) }
        let item = kind(SessionEvent(stationID: station.stationID, receivedAt: Date(), details: payload))
        do {
            _ = try await dependencies.ingest.submit(item)
        } catch {
            logger.warning("\(item.kind) event not journaled: \(String(reflecting: error))")
        }
    }
}
