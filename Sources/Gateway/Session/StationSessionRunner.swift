import CoreMetrics
import Foundation
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import Shared

/// Runs one accepted WebSocket from the first frame to the last: records the live
/// session (closing the station's previous one wherever it is), journals connect
/// and disconnect, and feeds frames to the ``StationConnection``.
struct StationSessionRunner: Sendable {
    let dependencies: ConnectionDependencies
    let registry: ConnectionRegistry
    let maxMessageSize: Int
    /// Each connection's message rate: a token bucket (``MessageRateLimiter``).
    var maxMessageRate = 0
    var messageBurst = 1

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

        shutdown.onShutdown {
            Task { await connection.close(code: .goingAway, reason: "the gateway is shutting down") }
        }
        await withDiscardingTaskGroup { group in
            // Queued commands are delivered beside the frame loop and end with it.
            group.addTask { await connection.runOutbound() }
            do {
                var limiter = MessageRateLimiter(rate: maxMessageRate, burst: messageBurst)
                var slowedDown = false
                for try await message in inbound.messages(maxSize: maxMessageSize) {
                    let holdBack = limiter.admit()
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
            connection.connectionEnded()
        }

        await registry.remove(connection)
        dependencies.metrics.connections.decrement()
        try? await dependencies.stations.closeSession(stationID: station.stationID, sessionID: session.id)
        await journal(
            .disconnected, station: station, session: session, remoteAddress: remoteAddress, logger: logger)
        logger.info("disconnected")
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

/// One WebSocket session of a station: its id and when it began (RFC 3339 text, as
/// stored in the session row and in the connect and disconnect work rows).
struct SessionIdentity: Sendable {
    var id: UUID
    var connectedAt: String
}
