import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared

/// A queued command claimed for sending: its row is `sent` by this gateway.
struct ClaimedCommand: Sendable {
    var messageID: String
    var action: String
    /// The payload as stored, still to be validated before it goes on the wire.
    var payload: String
}

/// What a claim found.
enum ClaimOutcome: Sendable {
    case claimed(ClaimedCommand)
    /// Nothing is due now; the earliest command queued for later becomes due after
    /// this long (nil: none is).
    case nothingDue(nextDueIn: Duration?)
}

/// The rows of `ocpp.station_messages` the outbound dispatcher moves along.
///
/// Every final state is written only over a row that is still `sent`, so a late
/// answer cannot overwrite a timeout, nor a timeout an answer.
protocol OutboundStore: Sendable {
    /// Marks the station's oldest due pending command as sent by `gatewayID` and
    /// returns it; when none is due, says when the next one will be.
    func claimNext(stationID: Int64, gatewayID: String) async throws -> ClaimOutcome
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

    func claimNext(stationID: Int64, gatewayID: String) async throws -> ClaimOutcome {
        let rows = try await client.rows(
            of: ClaimNextCommandStatement(stationID: stationID, gatewayID: gatewayID), logger: logger)
        guard let (messageID, action, payload, nextDueInMilliseconds) = rows.first else {
            return .nothingDue(nextDueIn: nil)
        }
        if let messageID, let action, let payload {
            return .claimed(ClaimedCommand(messageID: messageID, action: action, payload: payload))
        }
        return .nothingDue(nextDueIn: nextDueInMilliseconds.map { .milliseconds($0) })
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
