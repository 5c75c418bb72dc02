import Foundation
import Logging
import PostgresNIO
import Shared

/// A station as the handshake needs it.
struct StationRecord: Sendable, Hashable {
    var id: Int64
    var registrationStatus: RegistrationStatus
    /// The password hash, and while a new password is being pushed to the station
    /// (ChangeConfiguration AuthorizationKey) the new one's: either is accepted.
    var passwordHashes: [String] = []
}

/// The station rows the gateway reads and writes outside the ingest batches:
/// lookups and registration at connect, and the live-session table.
protocol StationStore: Sendable {
    func find(identity: String) async throws -> StationRecord?
    /// Registers an unknown station with `status`; an identity registered meanwhile
    /// by another gateway is returned as it is.
    func register(identity: String, status: RegistrationStatus) async throws -> StationRecord
    /// Records this connection as the station's live session and, in the same
    /// statement, tells the gateway that held the previous one to close it.
    /// `connectedAt` is RFC 3339 text, the very value the connect work row carries,
    /// so that a disconnect recorded later from the session row names the same instant.
    func openSession(
        stationID: Int64, sessionID: UUID, gatewayID: String, remoteAddress: String?, connectedAt: String
    ) async throws
    /// Removes the session row if it is still this connection's.
    func closeSession(stationID: Int64, sessionID: UUID) async throws
    /// Sets `clock_offset_ms` of the sessions named, by station id; a session that
    /// has ended or moved meanwhile is left alone.
    func recordClockOffsets(_ offsets: [Int64: ClockOffsetLog.Entry]) async throws
}

/// The session statements commit without waiting for their WAL flush.
///
/// A connect and a disconnect are each their own transaction, and
/// in a reconnect storm thousands of them queue for the disk one flush at a time.
/// None of them is an acknowledgement (invariant 1 concerns the ingest batches,
/// which stay synchronous): a database crash can lose the last fraction of a
/// second of them, and a lost session row is repaired by the station's connection
/// being closed when the gateway's LISTEN comes back (``GatewayPresence``), so the
/// station reconnects and writes it again. `set_config(..., true)` lasts for the
/// statement's own transaction; a statement reads this CTE in the row it writes,
/// so the setting is in force whenever the statement writes anything.
private let relaxedCommit = "relaxed AS (SELECT set_config('synchronous_commit', 'off', true))"

struct PostgresStationStore: StationStore {
    let client: PostgresClient
    let logger: Logger

    func find(identity: String) async throws -> StationRecord? {
        let rows = try await client.query(
            """
            SELECT id, registration_status, password_hash, pending_password_hash FROM ocpp.stations
            WHERE identity = \(identity)
            """,
            logger: logger)
        // Drained to the end: a row sequence left unfinished keeps its pool lease.
        guard let row = try await rows.collect().first else { return nil }
        let (id, status, hash, pendingHash) = try row.decode((Int64, String, String?, String?).self)
        return StationRecord(
            id: id, registrationStatus: RegistrationStatus(rawValue: status) ?? .pending,
            passwordHashes: [hash, pendingHash].compactMap { $0 })
    }

    func register(identity: String, status: RegistrationStatus) async throws -> StationRecord {
        // The no-op update makes RETURNING give the row when another gateway won the race.
        let rows = try await client.query(
            """
            INSERT INTO ocpp.stations (identity, registration_status) VALUES (\(identity), \(status.rawValue))
            ON CONFLICT (identity) DO UPDATE SET identity = excluded.identity
            RETURNING id, registration_status, password_hash, pending_password_hash
            """, logger: logger)
        guard let row = try await rows.collect().first else { throw StationStoreError.noRowReturned }
        let (id, stored, hash, pendingHash) = try row.decode((Int64, String, String?, String?).self)
        return StationRecord(
            id: id, registrationStatus: RegistrationStatus(rawValue: stored) ?? .pending,
            passwordHashes: [hash, pendingHash].compactMap { $0 })
    }

    func openSession(
        stationID: Int64, sessionID: UUID, gatewayID: String, remoteAddress: String?, connectedAt: String
    ) async throws {
        _ = try await client.query(
            """
            WITH \(unescaped: relaxedCommit), gateway AS (
                -- The session row needs this gateway's row; its heartbeat may not have run yet.
                INSERT INTO ocpp.gateways (gateway_id) VALUES (\(gatewayID)) ON CONFLICT DO NOTHING
            ), previous AS (
                SELECT gateway_id, session_id FROM ocpp.station_sessions WHERE station_id = \(stationID) FOR UPDATE
            ), upserted AS (
                INSERT INTO ocpp.station_sessions (station_id, gateway_id, session_id, remote_address, connected_at)
                SELECT \(stationID), \(gatewayID), \(sessionID), \(remoteAddress), \(connectedAt)::timestamptz
                FROM relaxed
                ON CONFLICT (station_id) DO UPDATE SET gateway_id = excluded.gateway_id,
                    session_id = excluded.session_id, remote_address = excluded.remote_address,
                    connected_at = excluded.connected_at, clock_offset_ms = NULL
                RETURNING 1
            )
            SELECT pg_notify(\(GatewayChannel.name(of: "")) || previous.gateway_id,
                             \(GatewayChannel.takeoverMessage(stationID: stationID, sessionID: nil)) || previous.session_id::text)
            FROM previous, upserted
            WHERE previous.gateway_id <> \(gatewayID)
            """, logger: logger
        ).collect()
    }

    func closeSession(stationID: Int64, sessionID: UUID) async throws {
        try await client.query(
            """
            WITH \(unescaped: relaxedCommit)
            DELETE FROM ocpp.station_sessions USING relaxed
            WHERE station_id = \(stationID) AND session_id = \(sessionID)
            """, logger: logger)
    }

    func recordClockOffsets(_ offsets: [Int64: ClockOffsetLog.Entry]) async throws {
        let stationIDs = offsets.map(\.key)
        let sessionIDs = offsets.map(\.value.sessionID)
        let milliseconds = offsets.map(\.value.milliseconds)
        try await client.query(
            """
            WITH \(unescaped: relaxedCommit)
            UPDATE ocpp.station_sessions AS s SET clock_offset_ms = o.milliseconds
            FROM relaxed, unnest(\(stationIDs)::bigint[], \(sessionIDs)::uuid[], \(milliseconds)::bigint[])
                AS o (station_id, session_id, milliseconds)
            WHERE s.station_id = o.station_id AND s.session_id = o.session_id
            """, logger: logger)
    }
}

enum StationStoreError: Error {
    case noRowReturned
}
