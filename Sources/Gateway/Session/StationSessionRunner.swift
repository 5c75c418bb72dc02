import CoreMetrics
import Foundation
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import Shared
import Synchronization

/// Runs one accepted WebSocket from the first frame to the last: records the live
/// session (closing the station's previous one wherever it is), journals connect
/// and disconnect, and feeds frames to the ``StationConnection``.
struct StationSessionRunner: Sendable {
    let dependencies: ConnectionDependencies
    let registry: ConnectionRegistry
    let maxMessageSize: Int
    /// Each connection's message rate: a token bucket (a ``TokenBucket``).
    var maxMessageRate = 0
    var messageBurst = 1
    /// A station silent for this long is disconnected; zero never.
    var idleTimeout = Duration.zero
    /// Sessions close at a random moment within this time at shutdown.
    var drainDuration = Duration.zero

    func run(
        station: StationContext, registration: RegistrationStatus, subprotocol: String?, remoteAddress: String?,
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, shutdown: ShutdownSignal, logger: Logger
    ) async {
        var logger = logger
        logger[metadataKey: "station"] = "\(station.identity)"
        guard subprotocol != nil else {
            // OCPP-J 1.6 section 3.1.2: complete the handshake without the header, then close.
            dependencies.metrics.subprotocolMissing.increment()
            logger.notice("connection without the ocpp1.6 subprotocol closed")
            try? await outbound.close(.protocolError, reason: "the ocpp1.6 subprotocol is required")
            return
        }

        let session = SessionIdentity(id: UUID(), connectedAt: RFC3339.format(Date()))
        do {
            try await dependencies.stations.openSession(
                stationID: station.stationID, sessionID: session.id, gatewayID: dependencies.gatewayID,
                remoteAddress: remoteAddress, connectedAt: session.connectedAt)
        } catch {
            logger.error("session not recorded: \(String(reflecting: error))")
            try? await outbound.close(.unexpectedServerError, reason: "try again later")
            return
        }
        let connection = StationConnection(
            station: station, sessionID: session.id, registration: registration, outbound: outbound,
            dependencies: dependencies, logger: logger)
        if let previous = await registry.register(connection) {
            dependencies.metrics.takeovers.increment()
            await previous.close(code: .normalClosure, reason: "replaced by a new connection")
        }
        dependencies.metrics.connections.increment()
        dependencies.metrics.connectionsOpened.increment()
        logger.info("connected")
        await journal(.connected, station: station, session: session, remoteAddress: remoteAddress, logger: logger)

        let drain = drainDuration
        shutdown.onShutdown {
            Task {
                // Spread over the drain time, so the stations reconnect to the other
                // gateways a few at a time rather than all in the same second.
                if drain > .zero { try? await Task.sleep(for: drain * Double.random(in: 0..<1)) }
                await connection.close(code: .goingAway, reason: "the gateway is shutting down")
            }
        }
        await withDiscardingTaskGroup { group in
            // Queued commands are delivered beside the frame loop and end with it.
            group.addTask { await connection.runOutbound() }
            let lastMessageAt = LastMessageTime()
            await withDiscardingTaskGroup { frameLoop in
                if idleTimeout > .zero {
                    frameLoop.addTask { [logger] in
                        await closeWhenIdle(connection, lastMessageAt: lastMessageAt, logger: logger)
                    }
                }
                await readFrames(inbound, into: connection, lastMessageAt: lastMessageAt, logger: logger)
                // The watchdog ends with the frames.
                frameLoop.cancelAll()
            }
            connection.connectionEnded()
        }

        await registry.remove(connection)
        dependencies.metrics.connections.decrement()
        try? await dependencies.stations.closeSession(stationID: station.stationID, sessionID: session.id)
        await journal(
            .disconnected, station: station, session: session, remoteAddress: remoteAddress, logger: logger)
        logger.info("disconnected")
    }

    /// Feeds the station's frames to its connection, one at a time, held back by the
    /// rate limit, until the socket ends.
    private func readFrames(
        _ inbound: WebSocketInboundStream, into connection: StationConnection,
        lastMessageAt: LastMessageTime, logger: Logger
    ) async {
        var limiter = TokenBucket(rate: maxMessageRate, burst: messageBurst)
        var slowedDown = false
        do {
            for try await message in inbound.messages(maxSize: maxMessageSize) {
                lastMessageAt.touch()
                let holdBack = limiter.delay()
                if holdBack > .zero {
                    dependencies.metrics.rateLimited.increment()
                    if !slowedDown {
                        slowedDown = true
                        logger.notice("more than \(maxMessageRate) messages a second: slowed down")
                    }
                    try await Task.sleep(for: holdBack)
                }
                switch message {
                case .text(let text):
                    await connection.handle(text: text)
                case .binary:
                    // OCPP-J carries JSON text only.
                    await connection.close(code: .unacceptableData, reason: "binary frames are not OCPP-J")
                }
            }
        } catch {
            logger.notice("connection ended: \(error)")
        }
    }

    /// Closes the connection once no message has come for ``idleTimeout``; returns
    /// when it did, or when cancelled.
    private func closeWhenIdle(
        _ connection: StationConnection, lastMessageAt: LastMessageTime, logger: Logger
    ) async {
        while !Task.isCancelled {
            let deadline = lastMessageAt.value + idleTimeout
            if ContinuousClock.now >= deadline {
                dependencies.metrics.idleDisconnects.increment()
                logger.notice("no message for \(idleTimeout): disconnected")
                await connection.close(code: .normalClosure, reason: "idle")
                return
            }
            try? await Task.sleep(until: deadline)
        }
    }

    /// Connect and disconnect work rows carry the session's id and start, from which
    /// the worker merges the station's online state in any order.
    private func journal(
        _ kind: WorkItem.Kind, station: StationContext, session: SessionIdentity, remoteAddress: String?,
        logger: Logger
    ) async {
        var payload = JSONObject([
            (key: "sessionId", value: .string(session.id.uuidString.lowercased())),
            (key: "gatewayId", value: .string(dependencies.gatewayID)),
            (key: "connectedAt", value: .string(session.connectedAt)),
        ])
        if let remoteAddress { payload.members.append((key: "remoteAddress", value: .string(remoteAddress))) }
        do {
            _ = try await dependencies.ingest.submit(
                WorkItem(kind: kind, stationID: station.stationID, receivedAt: Date(), payload: payload))
        } catch {
            logger.warning("\(kind.rawValue) event not journaled: \(String(reflecting: error))")
        }
    }
}

/// When a station's last message came, shared by its frame loop and its idle watchdog.
final class LastMessageTime: Sendable {
    private let time = Mutex(ContinuousClock.now)

    func touch() { time.withLock { $0 = .now } }

    var value: ContinuousClock.Instant { time.withLock { $0 } }
}

/// One WebSocket session of a station: its id and when it began (RFC 3339 text, as
/// stored in the session row and in the connect and disconnect work rows).
struct SessionIdentity: Sendable {
    var id: UUID
    var connectedAt: String
}
