import Foundation
import OCPP
import PostgresNIO
import Shared

// The statements every connection runs, prepared: in a reconnect storm each runs
// hundreds of times a second, and a plain query is parsed and planned anew every
// time (see `PostgresClient.rows(of:logger:)`).

/// The station a handshake names, with what authenticates it.
struct StationByIdentityStatement: PostgresPreparedStatement {
    typealias Row = (Int64, String, String?, String?, String?, Int16?)
    static let sql = """
        SELECT id, registration_status, password_hash, pending_password_hash, validation_mode, security_profile
        FROM ocpp.stations WHERE identity = $1
        """
    static let bindingDataTypes: [PostgresDataType] = [.text]

    var identity: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(identity)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// A station's stored registration status, read at every BootNotification.
struct RegistrationStatusStatement: PostgresPreparedStatement {
    typealias Row = String
    static let sql = "SELECT registration_status FROM ocpp.stations WHERE id = $1"
    static let bindingDataTypes: [PostgresDataType] = [.int8]

    var stationID: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(stationID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// The session statements commit without waiting for their WAL flush.
///
/// A connect and a disconnect are each their own transaction, and in a reconnect
/// storm thousands of them queue for the disk one flush at a time. None of them is
/// an acknowledgement (invariant 1 concerns the ingest batches, which stay
/// synchronous): a database crash can lose the last fraction of a second of them,
/// and a lost session row is repaired by the station's connection being closed when
/// the gateway's LISTEN comes back (``GatewayPresence``), so the station reconnects
/// and writes it again. `set_config(..., true)` lasts for the statement's own
/// transaction; a statement reads this CTE in the row it writes, so the setting is
/// in force whenever the statement writes anything.
let relaxedCommitCTE = "relaxed AS (SELECT set_config('synchronous_commit', 'off', true))"

/// Records a connection as its station's live session and, in the same statement,
/// tells the gateway that held the previous session to close it (invariant 8).
struct OpenSessionStatement: PostgresPreparedStatement {
    typealias Row = String
    static let sql = """
        WITH \(relaxedCommitCTE), gateway AS (
            -- The session row needs this gateway's row; its heartbeat may not have run yet.
            INSERT INTO ocpp.gateways (gateway_id) VALUES ($2) ON CONFLICT DO NOTHING
        ), previous AS (
            SELECT gateway_id, session_id FROM ocpp.station_sessions WHERE station_id = $1 FOR UPDATE
        ), upserted AS (
            INSERT INTO ocpp.station_sessions (station_id, gateway_id, session_id, remote_address, connected_at)
            SELECT $1, $2, $3, $4, $5::timestamptz
            FROM relaxed
            ON CONFLICT (station_id) DO UPDATE SET gateway_id = excluded.gateway_id,
                session_id = excluded.session_id, remote_address = excluded.remote_address,
                connected_at = excluded.connected_at, clock_offset_ms = NULL
            RETURNING 1
        )
        SELECT pg_notify($6 || previous.gateway_id, $7 || previous.session_id::text)
        FROM previous, upserted
        WHERE previous.gateway_id <> $2
        """
    static let bindingDataTypes: [PostgresDataType] = [.int8, .text, .uuid, .text, .text, .text, .text]

    var stationID: Int64
    var gatewayID: String
    var sessionID: UUID
    var remoteAddress: String?
    /// RFC 3339 text, the very value the connect work row carries.
    var connectedAt: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 7)
        bindings.append(stationID)
        bindings.append(gatewayID)
        bindings.append(sessionID)
        bindings.append(remoteAddress)
        bindings.append(connectedAt)
        bindings.append(GatewayChannel.name(of: ""))
        bindings.append(GatewayChannel.takeoverMessage(stationID: stationID, sessionID: nil))
        return bindings
    }

    /// pg_notify's result (empty), one row when a previous gateway was told.
    func decodeRow(_ row: PostgresRow) throws -> Row { "" }
}

/// Removes the session row if it is still this connection's.
struct CloseSessionStatement: PostgresPreparedStatement {
    typealias Row = Void
    static let sql = """
        WITH \(relaxedCommitCTE)
        DELETE FROM ocpp.station_sessions USING relaxed
        WHERE station_id = $1 AND session_id = $2
        """
    static let bindingDataTypes: [PostgresDataType] = [.int8, .uuid]

    var stationID: Int64
    var sessionID: UUID

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(stationID)
        bindings.append(sessionID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws {}
}
