import CoreMetrics
import Foundation
import Logging
import NIOWebSocket
import OCPP
import Shared
import Synchronization

/// One accepted WebSocket from its first frame to its last: records the live session
/// (closing the station's previous one wherever it is), journals connect and
/// disconnect, and hands the socket's messages to its ``StationConnection``.
///
/// It keeps no task while the station is quiet: the socket calls it on its event
/// loop, and each message, the start and the end run in a task of their own.
final class StationSession: StationSocketDelegate {
    private enum Phase {
        /// Recording the session; the socket reads nothing yet.
        case starting
        case live(StationConnection)
        case ended
    }

    private struct State {
        var phase = Phase.starting
        /// The socket closed while the session was starting.
        var closedWhileStarting = false
        var limiter: TokenBucket
        var slowedDown = false
    }

    private let sessions: StationSessions
    private let station: StationContext
    private let remoteAddress: String?
    private let socket: StationSocket
    private let logger: Logger
    private let identity = SessionIdentity(id: UUID(), connectedAt: RFC3339.format(Date()))
    private let state: Mutex<State>

    private var dependencies: ConnectionDependencies { sessions.dependencies }

    init(
        sessions: StationSessions, station: StationContext, remoteAddress: String?, socket: StationSocket,
        logger: Logger
    ) {
        self.sessions = sessions
        self.station = station
        self.remoteAddress = remoteAddress
        self.socket = socket
        self.logger = logger
        state = Mutex(State(limiter: TokenBucket(rate: sessions.maxMessageRate, burst: sessions.messageBurst)))
    }

    // MARK: Start

    func start(registration: RegistrationStatus, subprotocol: String?) {
        Task { await self.open(registration: registration, subprotocol: subprotocol) }
    }

    private func open(registration: RegistrationStatus, subprotocol: String?) async {
        guard subprotocol != nil else {
            // OCPP-J 1.6 section 3.1.2: complete the handshake without the header, then close.
            dependencies.metrics.subprotocolMissing.increment()
            logger.notice("connection without the ocpp1.6 subprotocol closed")
            await socket.close(code: .protocolError, reason: "the ocpp1.6 subprotocol is required")
            state.withLock { $0.phase = .ended }
            return
        }
        do {
            try await dependencies.stations.openSession(
                stationID: station.stationID, sessionID: identity.id, gatewayID: dependencies.gatewayID,
                remoteAddress: remoteAddress, connectedAt: identity.connectedAt)
        } catch {
            logger.error("session not recorded: \(String(reflecting: error))")
            await socket.close(code: .unexpectedServerError, reason: "try again later")
            state.withLock { $0.phase = .ended }
            return
        }
        let connection = StationConnection(
            station: station, sessionID: identity.id, registration: registration, socket: socket,
            dependencies: dependencies, logger: logger)
        if let previous = await sessions.registry.register(connection) {
            dependencies.metrics.takeovers.increment()
            await previous.close(code: .normalClosure, reason: "replaced by a new connection")
        }
        dependencies.metrics.connections.increment()
        dependencies.metrics.connectionsOpened.increment()
        logger.info("connected")
        await journal(WorkItem.connected)

        let closedMeanwhile = state.withLock { state in
            if state.closedWhileStarting {
                state.phase = .ended
                return true
            }
            state.phase = .live(connection)
            return false
        }
        if closedMeanwhile {
            await end(connection)
            return
        }
        connection.startOutbound()
        if sessions.drain.isDraining {
            // The gateway began shutting down while this session started.
            await connection.close(code: .goingAway, reason: "the gateway is shutting down")
        }
        socket.ready()
    }

    // MARK: Socket events

    func socket(_ socket: StationSocket, received message: StationSocketMessage) {
        guard case .live(let connection) = state.withLock({ $0.phase }) else { return }
        Task {
            // Beyond its rate, a message waits before it is handled; the socket reads
            // nothing meanwhile, so TCP holds the station back.
            let holdBack = holdBack()
            if holdBack > .zero { try? await Task.sleep(for: holdBack) }
            switch message {
            case .text(let text):
                await connection.handle(text: text)
            case .binary:
                // OCPP-J carries JSON text only.
                await connection.close(code: .unacceptableData, reason: "binary frames are not OCPP-J")
            }
            socket.ready()
        }
    }

    /// How long a message waits before it is handled, by the station's rate limit.
    private func holdBack() -> Duration {
        let (delay, firstTime) = state.withLock { state in
            let delay = state.limiter.delay()
            guard delay > .zero else { return (delay, false) }
            defer { state.slowedDown = true }
            return (delay, !state.slowedDown)
        }
        if delay > .zero {
            dependencies.metrics.rateLimited.increment()
            if firstTime { logger.notice("more than \(sessions.maxMessageRate) messages a second: slowed down") }
        }
        return delay
    }

    func socketIsIdle(_ socket: StationSocket) {
        guard case .live(let connection) = state.withLock({ $0.phase }) else { return }
        dependencies.metrics.idleDisconnects.increment()
        logger.notice("no message for the idle timeout: disconnected")
        Task { await connection.close(code: .normalClosure, reason: "idle") }
    }

    func socketClosed(_ socket: StationSocket) {
        let connection = state.withLock { state -> StationConnection? in
            switch state.phase {
            case .starting:
                state.closedWhileStarting = true
                return nil
            case .live(let connection):
                state.phase = .ended
                return connection
            case .ended:
                return nil
            }
        }
        if let connection {
            Task { await self.end(connection) }
        }
    }

    // MARK: End

    private func end(_ connection: StationConnection) async {
        connection.connectionEnded()
        await sessions.registry.remove(connection)
        dependencies.metrics.connections.decrement()
        try? await dependencies.stations.closeSession(stationID: station.stationID, sessionID: identity.id)
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
