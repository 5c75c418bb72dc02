import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

/// The queue's entry points: `CommandQueue` from Swift and `ocpp.enqueue_call` from
/// SQL write the same `station_messages` rows; collapsing, cancelling, expiry.
@Suite("Outbound command queue: enqueue, collapse, cancel, expire")
struct OutboundQueueTests {
    @Test func aValidatedCommandIsQueuedPending() async throws {
        try await withQueue { client, queue in
            let id = try await queue.enqueue(try OutboundCommand(ResetRequest(type: .hard)), to: "CP-1")
            let row = try await client.scalar(
                """
                SELECT m.action || ' ' || m.status || ' ' || (m.payload->>'type') || ' ' || s.identity
                FROM ocpp.station_messages AS m JOIN ocpp.stations AS s ON s.id = m.station_id
                WHERE m.message_id = \(id)
                """, as: String.self)
            #expect(row == "Reset pending Hard CP-1")
            #expect(id.count <= 36, "an OCPP message id is at most 36 characters")
        }
    }

    @Test func sqlAndSwiftWriteTheSameRow() async throws {
        try await withQueue { client, queue in
            let fromSwift = try await queue.enqueue(
                try OutboundCommand(action: "ClearCache", payload: JSONObject([])), to: "CP-1")
            let fromSQL = try await client.scalar(
                "SELECT ocpp.enqueue_call('CP-1', 'ClearCache', '{}'::jsonb)", as: String.self)
            let shapes = try await client.query(
                """
                SELECT action, payload::text, status, collapse_key IS NULL, expires_at IS NULL
                FROM ocpp.station_messages WHERE message_id IN (\(fromSwift), \(fromSQL))
                """, logger: TestDatabase.logger
            ).collect().map { try $0.decode((String, String, String, Bool, Bool).self) }
            #expect(shapes.count == 2)
            #expect(shapes.allSatisfy { $0 == shapes[0] }, "\(shapes)")
        }
    }

    @Test func aCollapseKeyReplacesThePendingCommandWithIt() async throws {
        try await withQueue { client, queue in
            func change(_ value: String) throws -> OutboundCommand {
                try OutboundCommand(ChangeConfigurationRequest(key: "HeartbeatInterval", value: value))
            }
            let first = try await queue.enqueue(try change("60"), to: "CP-1", collapseKey: "HeartbeatInterval")
            let second = try await queue.enqueue(try change("90"), to: "CP-1", collapseKey: "HeartbeatInterval")
            let other = try await queue.enqueue(try change("5"), to: "CP-1", collapseKey: "MeterValueSampleInterval")
            let third = try await queue.enqueue(try change("120"), to: "CP-1", collapseKey: "HeartbeatInterval")
            #expect(try await status(client, first) == "replaced")
            #expect(try await status(client, second) == "replaced")
            #expect(try await status(client, other) == "pending")
            #expect(try await status(client, third) == "pending")
            #expect(
                try await client.scalar(
                    "SELECT count(*) FROM ocpp.station_messages WHERE status = 'replaced' AND closed_at IS NOT NULL",
                    as: Int.self) == 2)
        }
    }

    @Test func onlyPendingCommandsCanBeCancelled() async throws {
        try await withQueue { client, queue in
            let id = try await queue.enqueue(
                try OutboundCommand(action: "ClearCache", payload: JSONObject([])), to: "CP-1")
            #expect(try await queue.cancel(messageID: id))
            #expect(try await status(client, id) == "cancelled")
            #expect(try await queue.cancel(messageID: id) == false, "already cancelled")
            #expect(try await queue.cancel(messageID: "no-such-id") == false)
        }
    }

    @Test func pendingCommandsPastTheirExpiryAreMarkedExpired() async throws {
        try await withQueue { client, queue in
            let clearCache = try OutboundCommand(action: "ClearCache", payload: JSONObject([]))
            let soon = try await queue.enqueue(clearCache, to: "CP-1", expiresAt: Date() + 60)
            let later = try await queue.enqueue(clearCache, to: "CP-1", expiresAt: Date() + 3600)
            let never = try await queue.enqueue(clearCache, to: "CP-1")
            let expired = try await client.scalar(
                "SELECT ocpp.expire_calls(now() + interval '2 minutes')", as: Int.self)
            #expect(expired == 1)
            #expect(try await status(client, soon) == "expired")
            #expect(try await status(client, later) == "pending")
            #expect(try await status(client, never) == "pending")
        }
    }

    /// A `sent` row whose gateway never recorded the answer or the timeout (database
    /// unreachable at that moment, gateway killed) is closed once no gateway can still
    /// be waiting for it, and is not resent.
    @Test func sentCommandsWithoutARecordedOutcomeAreClosedAsTimedOut() async throws {
        try await withQueue { client, queue in
            let clearCache = try OutboundCommand(action: "ClearCache", payload: JSONObject([]))
            let abandoned = try await queue.enqueue(clearCache, to: "CP-1")
            let recent = try await queue.enqueue(clearCache, to: "CP-1")
            try await client.query(
                """
                UPDATE ocpp.station_messages
                SET status = 'sent', sent_at = CASE WHEN message_id = \(abandoned) THEN now() - interval '2 hours'
                                                    ELSE now() - interval '10 minutes' END
                """, logger: TestDatabase.logger)
            #expect(try await client.scalar("SELECT ocpp.expire_calls(now())", as: Int.self) == 1)
            #expect(try await status(client, abandoned) == "timed_out")
            #expect(try await status(client, recent) == "sent")
            #expect(
                try await client.scalar(
                    "SELECT closed_at IS NOT NULL FROM ocpp.station_messages WHERE message_id = \(abandoned)",
                    as: Bool.self))
        }
    }

    @Test func aStationsPendingCommandsAreCapped() async throws {
        try await withQueue { client, queue in
            try await client.query(
                "INSERT INTO ocpp.settings (name, value) VALUES ('max_pending_commands', '2')",
                logger: TestDatabase.logger)
            let clearCache = try OutboundCommand(action: "ClearCache", payload: JSONObject([]))
            _ = try await queue.enqueue(clearCache, to: "CP-1", collapseKey: "a")
            _ = try await queue.enqueue(clearCache, to: "CP-1")
            await #expect(throws: CommandQueueError.self) {
                try await queue.enqueue(clearCache, to: "CP-1")
            }
            // Replacing a pending command by its key does not add to the count.
            _ = try await queue.enqueue(clearCache, to: "CP-1", collapseKey: "a")
            #expect(
                try await client.scalar(
                    "SELECT count(*) FROM ocpp.station_messages WHERE status = 'pending'", as: Int.self) == 2)
        }
    }

    @Test func refusalsNameTheirReason() async throws {
        try await withQueue { client, queue in
            let clearCache = try OutboundCommand(action: "ClearCache", payload: JSONObject([]))
            await #expect(throws: CommandQueueError.unknownStation("CP-NOWHERE")) {
                try await queue.enqueue(clearCache, to: "CP-NOWHERE")
            }
            await #expect(throws: CommandQueueError.self) {
                try await queue.enqueue(clearCache, to: "CP-1", expiresAt: Date() - 60)
            }
            // From SQL: only a command action, only an object payload.
            for bad in [
                "SELECT ocpp.enqueue_call('CP-1', 'BootNotification', '{}'::jsonb)",
                "SELECT ocpp.enqueue_call('CP-1', 'Reset', '[]'::jsonb)",
            ] {
                await #expect(throws: (any Error).self) {
                    try await client.query(PostgresQuery(unsafeSQL: bad), logger: TestDatabase.logger).collect()
                }
            }
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.station_messages", as: Int.self) == 0)
        }
    }

    /// The SQL list of commands and the protocol core's directions agree.
    @Test func theSQLCommandListMatchesTheProtocol() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            for action in OCPPAction.allCases {
                let isCommand = try await client.scalar("SELECT ocpp.is_command(\(action.rawValue))", as: Bool.self)
                #expect(
                    isCommand == action.directions.contains(.centralSystemToChargePoint), "\(action.rawValue)")
            }
        }
    }

    private func withQueue(
        _ body: @Sendable (PostgresClient, CommandQueue) async throws -> Void
    ) async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-1', 'Accepted')",
                logger: TestDatabase.logger)
            try await body(client, CommandQueue(client: client, logger: TestDatabase.logger))
        }
    }

    private func status(_ client: PostgresClient, _ id: String) async throws -> String {
        try await client.scalar("SELECT status FROM ocpp.station_messages WHERE message_id = \(id)")
    }
}
