import Foundation
import Logging
import PostgresNIO
import Shared

/// A queued command claimed for sending: its row is `sent` by this gateway.
struct ClaimedCommand: Sendable {
    var messageID: String
    var action: String
    /// The payload as stored, still to be validated before it goes on the wire.
    var payload: String
}

/// The rows of `ocpp.station_messages` the outbound dispatcher moves along.
///
/// Every final state is written only over a row that is still `sent`, so a late
/// answer cannot overwrite a timeout, nor a timeout an answer.
protocol OutboundStore: Sendable {
    /// Marks the station's oldest due pending command as sent by `gatewayID` and
    /// returns it; nil when none is due.
    func claimNext(stationID: Int64, gatewayID: String) async throws -> ClaimedCommand?
    /// How long until the station's earliest pending command that is not yet due
    /// becomes due; nil when there is none.
    func nextDue(stationID: Int64) async throws -> Duration?
    /// Puts a claimed command that never reached the wire back in the queue.
    func release(messageID: String) async throws
    /// A command that is not fit to send (it was queued from SQL): failed, unsent.
    func reject(messageID: String, code: String, description: String) async throws
    func answered(messageID: String, response: JSONObject) async throws
    func failed(messageID: String, code: String, description: String) async throws
    func timedOut(messageID: String) async throws
}

struct PostgresOutboundStore: OutboundStore {
    let client: PostgresClient
    let logger: Logger

    func claimNext(stationID: Int64, gatewayID: String) async throws -> ClaimedCommand? {
        // SKIP LOCKED: a second claim racing this one (the station's previous gateway
        // in a takeover) moves on rather than waiting for the same row.
        let rows = try await client.query(
            """
            UPDATE ocpp.station_messages
            SET status = 'sent', sent_at = now(), sent_by_gateway = \(gatewayID), attempts = attempts + 1
            WHERE id = (
                SELECT id FROM ocpp.station_messages
                WHERE station_id = \(stationID) AND status = 'pending' AND not_before <= now()
                  AND (expires_at IS NULL OR expires_at > now())
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING message_id, action, payload::text
            """, logger: logger)
        guard let row = try await rows.collect().first else { return nil }
        let (messageID, action, payload) = try row.decode((String, String, String).self)
        return ClaimedCommand(messageID: messageID, action: action, payload: payload)
    }

    func nextDue(stationID: Int64) async throws -> Duration? {
        let rows = try await client.query(
            """
            SELECT ceil(extract(epoch FROM min(not_before) - now()) * 1000)::bigint FROM ocpp.station_messages
            WHERE station_id = \(stationID) AND status = 'pending' AND not_before > now()
              AND (expires_at IS NULL OR expires_at > not_before)
            """, logger: logger)
        guard let row = try await rows.collect().first else { return nil }
        return try row.decode(Int64?.self).map { .milliseconds($0) }
    }

    func release(messageID: String) async throws {
        try await client.query(
            """
            UPDATE ocpp.station_messages
            SET status = 'pending', sent_at = NULL, sent_by_gateway = NULL, attempts = attempts - 1
            WHERE message_id = \(messageID) AND status = 'sent'
            """, logger: logger)
    }

    func reject(messageID: String, code: String, description: String) async throws {
        try await client.query(
            """
            UPDATE ocpp.station_messages
            SET status = 'failed', sent_at = NULL, error_code = \(code), error_description = \(description),
                closed_at = now()
            WHERE message_id = \(messageID) AND status = 'sent'
            """, logger: logger)
    }

    func answered(messageID: String, response: JSONObject) async throws {
        var json = JSONWriter()
        json.value(.object(response))
        try await client.query(
            """
            UPDATE ocpp.station_messages
            SET status = 'answered', response = \(json.string)::jsonb, answered_at = now(), closed_at = now()
            WHERE message_id = \(messageID) AND status = 'sent'
            """, logger: logger)
    }

    func failed(messageID: String, code: String, description: String) async throws {
        try await client.query(
            """
            UPDATE ocpp.station_messages
            SET status = 'failed', error_code = \(code), error_description = \(description), answered_at = now(),
                closed_at = now()
            WHERE message_id = \(messageID) AND status = 'sent'
            """, logger: logger)
    }

    func timedOut(messageID: String) async throws {
        try await client.query(
            """
            UPDATE ocpp.station_messages SET status = 'timed_out', closed_at = now()
            WHERE message_id = \(messageID) AND status = 'sent'
            """, logger: logger)
    }
}
