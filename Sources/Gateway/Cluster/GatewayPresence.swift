import CoreMetrics
import Foundation
import Logging
import NIOWebSocket
import PostgresNIO
import ServiceLifecycle
import Shared

/// This gateway's presence in the database: its heartbeat row in `ocpp.gateways`,
/// and its NOTIFY channel, on which other gateways ask it to close a station's
/// session that has moved to them (invariant 8) and `ocpp.enqueue_call` says that a
/// command waits for one of its stations (invariant 7).
///
/// NOTIFY is only a wake-up: notices sent while the listening connection is down are
/// lost, so after every (re)connect the session table is read again and any local
/// connection whose station now lives elsewhere is closed, and every other local
/// connection looks for queued commands.
struct GatewayPresence: Service {
    let client: PostgresClient
    let gatewayID: String
    let heartbeatInterval: Duration
    let registry: ConnectionRegistry
    let metrics: GatewayMetrics
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await heartbeatLoop() }
                group.addTask { await listenLoop() }
            }
        }
        // Shutdown: the sessions of this gateway end with it.
        do {
            try await client.query("DELETE FROM ocpp.station_sessions WHERE gateway_id = \(gatewayID)", logger: logger)
            try await client.query("DELETE FROM ocpp.gateways WHERE gateway_id = \(gatewayID)", logger: logger)
        } catch {
            logger.warning("could not remove this gateway's sessions: \(String(reflecting: error))")
        }
    }

    private func heartbeatLoop() async {
        while !Task.isCancelled {
            do {
                try await DatabaseAttempt.run { [client, gatewayID, logger] in
                    _ = try await client.query(
                        """
                        INSERT INTO ocpp.gateways (gateway_id) VALUES (\(gatewayID))
                        ON CONFLICT (gateway_id) DO UPDATE SET heartbeat_at = now()
                        """, logger: logger)
                }
            } catch {
                logger.warning("gateway heartbeat failed: \(String(reflecting: error))")
            }
            try? await Task.sleep(for: heartbeatInterval)
        }
    }

    private func listenLoop() async {
        await client.listenUntilCancelled(
            on: GatewayChannel.name(of: gatewayID), logger: logger,
            listening: { connection in
                try await closeMovedSessions(on: connection)
                for local in await registry.all { local.deliverOutbound() }
            },
            notified: { notification in await handle(notification.payload) })
    }

    private func handle(_ payload: String) async {
        switch GatewayChannel.parse(payload) {
        case .takeover(let stationID, let sessionID):
            guard let connection = await registry.connection(stationID: stationID, sessionID: sessionID) else {
                return
            }
            metrics.takeovers.increment()
            connection.close(code: .normalClosure, reason: "replaced by a new connection")
        case .outbound(let stationID):
            // The session may have ended since the notice was sent: then the command
            // waits for the station's next connection.
            await registry.connection(stationID: stationID)?.deliverOutbound()
        case nil:
            logger.notice("unknown gateway notice ignored")
        }
    }

    /// Closes local connections whose station's live session is now another one:
    /// moved to another gateway, or missing. A session row goes missing when the
    /// database lost its last moments in a crash (the session statements commit
    /// without waiting for the disk, see ``PostgresStationStore``); the station
    /// reconnects and records it again. A connection is registered only after its
    /// session row was written, so a live one always finds its own row.
    private func closeMovedSessions(on connection: PostgresConnection) async throws {
        let local = await registry.all
        guard !local.isEmpty else { return }
        let rows = try await connection.query(
            """
            SELECT station_id, session_id FROM ocpp.station_sessions
            WHERE station_id = ANY(\(local.map { $0.station.stationID })) AND gateway_id = \(gatewayID)
            """, logger: logger)
        var live = Set<SessionKey>()
        for try await (stationID, sessionID) in rows.decode((Int64, UUID).self) {
            live.insert(SessionKey(stationID: stationID, sessionID: sessionID))
        }
        for connection in local
        where !live.contains(SessionKey(stationID: connection.station.stationID, sessionID: connection.sessionID)) {
            connection.close(code: .normalClosure, reason: "the session is no longer live here; reconnect")
        }
    }

    private struct SessionKey: Hashable {
        var stationID: Int64
        var sessionID: UUID
    }
}
