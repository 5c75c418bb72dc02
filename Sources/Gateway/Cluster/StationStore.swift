import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared

/// A station as the handshake needs it.
struct StationRecord: Sendable, Hashable {
    var id: Int64
    var registrationStatus: RegistrationStatus
    /// The password hash, and while a new password is being pushed to the station
    /// (ChangeConfiguration AuthorizationKey) the new one's: either is accepted.
    var passwordHashes: [String] = []
    /// The new password's hash while a rotation waits for the station (also in
    /// ``passwordHashes``): a login with it completes the rotation.
    var pendingPasswordHash: String?
    /// `strict` or `tolerant`; nil follows the gateway's default.
    var validationMode: ValidationMode?
    /// The security profile (0–3) the station must connect with; nil: not set, the
    /// listener's own rules apply.
    var securityProfile: Int?
}

/// The station rows the gateway reads and writes outside the ingest batches:
/// lookups and registration at connect, and the live-session table.
protocol StationStore: Sendable {
    func find(identity: String) async throws -> StationRecord?
    /// Registers an unknown station with `status`; an identity registered meanwhile
    /// by another gateway is returned as it is.
    func register(identity: String, status: RegistrationStatus) async throws -> StationRecord
    /// Makes the pending password the only one, if it is still `pendingHash`: the
    /// station has logged in with the key it was pushed (after answering
    /// RebootRequired, say), so it has it.
    func completePasswordRotation(stationID: Int64, pendingHash: String) async throws
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

struct PostgresStationStore: StationStore {
    let client: PostgresClient
    let logger: Logger

    func find(identity: String) async throws -> StationRecord? {
        let rows = try await client.rows(of: StationByIdentityStatement(identity: identity), logger: logger)
        guard let (id, status, hash, pendingHash, mode, profile) = rows.first else { return nil }
        return StationRecord(
            id: id, registrationStatus: RegistrationStatus(rawValue: status) ?? .pending,
            passwordHashes: [hash, pendingHash].compactMap { $0 }, pendingPasswordHash: pendingHash,
            validationMode: mode.flatMap(ValidationMode.init(rawValue:)), securityProfile: profile.map(Int.init))
    }

    func completePasswordRotation(stationID: Int64, pendingHash: String) async throws {
        try await client.query(
            """
            UPDATE ocpp.stations
            SET password_hash = pending_password_hash, pending_password_hash = NULL, password_changed_at = now(),
                updated_at = now()
            WHERE id = \(stationID) AND pending_password_hash = \(pendingHash)
            """, logger: logger)
    }

    func register(identity: String, status: RegistrationStatus) async throws -> StationRecord {
        // The no-op update makes RETURNING give the row when another gateway won the race.
        let rows = try await client.query(
            """
            INSERT INTO ocpp.stations (identity, registration_status) VALUES (\(identity), \(status.rawValue))
            ON CONFLICT (identity) DO UPDATE SET identity = excluded.identity
            RETURNING id, registration_status, password_hash, pending_password_hash, validation_mode, security_profile
            """, logger: logger)
        guard let row = try await rows.collect().first else { throw StationStoreError.noRowReturned }
        let (id, stored, hash, pendingHash, mode, profile) = try row.decode(
            (Int64, String, String?, String?, String?, Int16?).self)
        return StationRecord(
            id: id, registrationStatus: RegistrationStatus(rawValue: stored) ?? .pending,
            passwordHashes: [hash, pendingHash].compactMap { $0 }, pendingPasswordHash: pendingHash,
            validationMode: mode.flatMap(ValidationMode.init(rawValue:)), securityProfile: profile.map(Int.init))
    }

    func openSession(
        stationID: Int64, sessionID: UUID, gatewayID: String, remoteAddress: String?, connectedAt: String
    ) async throws {
        _ = try await client.rows(
            of: OpenSessionStatement(
                stationID: stationID, gatewayID: gatewayID, sessionID: sessionID, remoteAddress: remoteAddress,
                connectedAt: connectedAt),
            logger: logger)
    }

    func closeSession(stationID: Int64, sessionID: UUID) async throws {
        _ = try await client.rows(of: CloseSessionStatement(stationID: stationID, sessionID: sessionID), logger: logger)
    }

    func recordClockOffsets(_ offsets: [Int64: ClockOffsetLog.Entry]) async throws {
        let stationIDs = offsets.map(\.key)
        let sessionIDs = offsets.map(\.value.sessionID)
        let milliseconds = offsets.map(\.value.milliseconds)
        try await client.query(
            """
            WITH \(unescaped: relaxedCommitCTE)
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
