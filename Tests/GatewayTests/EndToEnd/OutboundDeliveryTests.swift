import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Gateway

/// Queued commands reach their station over a real WebSocket: at once when it is
/// online, in order after it reconnects and boots, one CALL at a time, with every
/// answer (or its absence) recorded on the command's row.
@Suite("Outbound delivery end to end", .serialized, .timeLimit(.minutes(2)))
struct OutboundDeliveryTests {
    /// How long a test listens to be sure that no further CALL comes.
    static let quiet = Duration.milliseconds(400)

    @Test func anOnlineStationGetsTheCommandAndItsAnswerIsStored() async throws {
        try await withGateway { client, queue, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-ON")
            _ = try await station.callResult("Heartbeat", [:])

            let id = try await queue.enqueue(try OutboundCommand(ResetRequest(type: .soft)), to: "CP-ON")
            let call = try await nextCall(station)
            #expect(call.messageID == id)
            #expect(call.action == "Reset")
            #expect(call.payload["type"] == "Soft")
            try await station.send(#"[3,"\#(id)",{"status":"Accepted"}]"#)

            try await eventually("the answer is stored") {
                try await status(of: id, client) == "answered"
            }
            #expect(
                try await client.scalar(
                    """
                    SELECT (response->>'status') || ' ' || (answered_at IS NOT NULL AND closed_at IS NOT NULL)::text
                    FROM ocpp.station_messages WHERE message_id = \(id)
                    """, as: String.self) == "Accepted true")
            await station.close()
        }
    }

    @Test func commandsQueuedOfflineAreDeliveredInOrderOneAtATimeAfterBoot() async throws {
        try await withGateway { client, queue, gateway in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-OFF', 'Pending')")
            let commands = [
                try OutboundCommand(action: "ClearCache", payload: JSONObject([])),
                try OutboundCommand(ChangeConfigurationRequest(key: "HeartbeatInterval", value: "60")),
                try OutboundCommand(ResetRequest(type: .hard)),
            ]
            var ids: [String] = []
            for command in commands { ids.append(try await queue.enqueue(command, to: "CP-OFF")) }

            // Nothing goes to a station that is not accepted.
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-OFF")
            let early = try? await station.nextReply(timeout: Self.quiet)
            #expect(early == nil)

            try await client.query(
                "UPDATE ocpp.stations SET registration_status = 'Accepted' WHERE identity = 'CP-OFF'")
            let boot = try await station.callResult(
                "BootNotification", ["chargePointVendor": "V", "chargePointModel": "M"])
            #expect(boot["status"] == "Accepted")

            for (id, command) in zip(ids, commands) {
                let call = try await nextCall(station)
                #expect(call.messageID == id)
                #expect(call.action == command.action.rawValue)
                // The next CALL waits for this one's answer (OCPP-J 4.1.1).
                let overtaking = try? await station.nextReply(timeout: Self.quiet)
                #expect(overtaking == nil)
                // Accepted is a valid status of all three answers.
                try await station.send(#"[3,"\#(id)",{"status":"Accepted"}]"#)
            }
            try await eventually("all three are answered") {
                try await client.scalar(
                    "SELECT count(*) FROM ocpp.station_messages WHERE status = 'answered'", as: Int.self) == 3
            }
            await station.close()
        }
    }

    /// An Accepted station that reconnects and boots gets its queue after the boot is
    /// answered, not in the middle of it.
    @Test func aReturningStationBootsBeforeItsQueueIsSent() async throws {
        try await withGateway { client, queue, gateway in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-BACK', 'Accepted')")
            let id = try await queue.enqueue(try OutboundCommand(ResetRequest(type: .soft)), to: "CP-BACK")
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-BACK")
            try await station.send(
                #"[2,"boot-1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#)
            let first = try #require(try await station.nextReply())
            #expect(first.hasPrefix(#"[3,"boot-1""#), "the boot's answer comes first: \(first)")
            #expect(try await nextCall(station).messageID == id)
            await station.close()
        }
    }

    /// A station that says nothing after connecting still gets its queue, after a
    /// short grace.
    @Test func aSilentReturningStationGetsItsQueueAfterTheGrace() async throws {
        try await withGateway { client, queue, gateway in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-MUTE', 'Accepted')")
            let id = try await queue.enqueue(try OutboundCommand(ResetRequest(type: .soft)), to: "CP-MUTE")
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-MUTE")
            #expect(try await nextCall(station).messageID == id)
            await station.close()
        }
    }

    @Test func aCommandQueuedForLaterIsSentWhenItIsDue() async throws {
        try await withGateway { client, queue, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-LATER")
            _ = try await station.callResult("Heartbeat", [:])
            let id = try await queue.enqueue(
                try OutboundCommand(action: "ClearCache", payload: JSONObject([])), to: "CP-LATER",
                notBefore: Date().addingTimeInterval(1))
            let early = try? await station.nextReply(timeout: Self.quiet)
            #expect(early == nil)
            #expect(try await nextCall(station).messageID == id)
            #expect(
                try await client.scalar(
                    "SELECT sent_at >= not_before FROM ocpp.station_messages WHERE message_id = \(id)", as: Bool.self))
            await station.close()
        }
    }

    @Test func aCallErrorIsStoredAsFailed() async throws {
        try await withGateway { client, queue, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-ERR")
            _ = try await station.callResult("Heartbeat", [:])
            let id = try await queue.enqueue(try OutboundCommand(ResetRequest(type: .hard)), to: "CP-ERR")
            _ = try await nextCall(station)
            try await station.send(#"[4,"\#(id)","NotSupported","no resets here",{}]"#)

            try await eventually("the error is stored") { try await status(of: id, client) == "failed" }
            #expect(
                try await client.scalar(
                    """
                    SELECT error_code || ' ' || error_description || ' ' || (answered_at IS NOT NULL)::text
                    FROM ocpp.station_messages WHERE message_id = \(id)
                    """, as: String.self) == "NotSupported no resets here true")
            await station.close()
        }
    }

    /// The gateway keeps trying to record an answer while the database is briefly
    /// unreachable, so the command does not stay `sent`.
    @Test func anAnswerThatArrivesDuringAShortOutageIsStillRecorded() async throws {
        try await GatewayHarness.withGateway { client, configuration, gateway in
            let queue = CommandQueue(client: client, logger: TestDatabase.logger)
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-BLIP")
            _ = try await station.callResult("Heartbeat", [:])
            let id = try await queue.enqueue(try OutboundCommand(ResetRequest(type: .soft)), to: "CP-BLIP")
            _ = try await nextCall(station)

            let name = try #require(configuration.database)
            try await TestDatabase.setConnectionsAllowed(false, database: name)
            try await station.send(#"[3,"\#(id)",{"status":"Accepted"}]"#)
            try await Task.sleep(for: .seconds(1))
            try await TestDatabase.setConnectionsAllowed(true, database: name)

            try await eventually("the answer is recorded after the outage") {
                (try? await status(of: id, client)) == "answered"
            }
            await station.close()
        }
    }

    @Test func anInvalidResponseIsStoredAsFailedWithItsCode() async throws {
        try await withGateway { client, queue, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-BAD")
            _ = try await station.callResult("Heartbeat", [:])
            let id = try await queue.enqueue(try OutboundCommand(ResetRequest(type: .hard)), to: "CP-BAD")
            _ = try await nextCall(station)
            try await station.send(#"[3,"\#(id)",{"status":"Maybe"}]"#)

            try await eventually("the invalid answer is stored") { try await status(of: id, client) == "failed" }
            let code = try await client.scalar(
                "SELECT error_code FROM ocpp.station_messages WHERE message_id = \(id)", as: String.self)
            #expect(code == OCPPErrorCode.propertyConstraintViolation.rawValue)
            await station.close()
        }
    }

    @Test func anUnansweredCallTimesOutAndTheNextIsSent() async throws {
        try await withGateway(configure: { $0.callTimeout = .seconds(1) }) { client, queue, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-SLOW")
            _ = try await station.callResult("Heartbeat", [:])
            let first = try await queue.enqueue(try OutboundCommand(ResetRequest(type: .soft)), to: "CP-SLOW")
            let second = try await queue.enqueue(
                try OutboundCommand(action: "ClearCache", payload: JSONObject([])), to: "CP-SLOW")

            #expect(try await nextCall(station).messageID == first)
            try await eventually("the first times out") { try await status(of: first, client) == "timed_out" }
            #expect(try await nextCall(station).messageID == second)
            // A late answer to the first changes nothing.
            try await station.send(#"[3,"\#(first)",{"status":"Accepted"}]"#)
            try await station.send(#"[3,"\#(second)",{"status":"Accepted"}]"#)
            try await eventually("the second is answered") { try await status(of: second, client) == "answered" }
            #expect(try await status(of: first, client) == "timed_out")
            #expect(
                try await client.scalar(
                    "SELECT attempts FROM ocpp.station_messages WHERE message_id = \(first)", as: Int.self) == 1)
            await station.close()
        }
    }

    @Test func aDisconnectTimesOutTheCallInFlightAndTheRestWaitsForTheNextConnection() async throws {
        try await withGateway { client, queue, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-GONE")
            _ = try await station.callResult("Heartbeat", [:])
            let first = try await queue.enqueue(try OutboundCommand(ResetRequest(type: .soft)), to: "CP-GONE")
            let second = try await queue.enqueue(
                try OutboundCommand(action: "ClearCache", payload: JSONObject([])), to: "CP-GONE")
            #expect(try await nextCall(station).messageID == first)
            await station.close()

            try await eventually("the CALL in flight times out") {
                try await status(of: first, client) == "timed_out"
            }
            #expect(try await status(of: second, client) == "pending")

            let again = try await TestStation.connect(port: gateway.port, identity: "CP-GONE")
            #expect(try await nextCall(again).messageID == second)
            await again.close()
        }
    }

    @Test func aCommandUnfitToSendIsFailedAndSkipped() async throws {
        try await withGateway { client, queue, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-SQL")
            _ = try await station.callResult("Heartbeat", [:])
            // Straight into the table, past enqueue_call's checks: Reset needs a type.
            let bad = try await client.scalar(
                """
                INSERT INTO ocpp.station_messages (station_id, action, payload)
                SELECT id, 'Reset', '{}'::jsonb FROM ocpp.stations WHERE identity = 'CP-SQL'
                RETURNING message_id
                """, as: String.self)
            let good = try await queue.enqueue(
                try OutboundCommand(action: "ClearCache", payload: JSONObject([])), to: "CP-SQL")

            #expect(try await nextCall(station).messageID == good)
            #expect(try await status(of: bad, client) == "failed")
            #expect(
                try await client.scalar(
                    "SELECT error_code FROM ocpp.station_messages WHERE message_id = \(bad)", as: String.self)
                    == OCPPErrorCode.occurenceConstraintViolation.rawValue)
            await station.close()
        }
    }

    // MARK: Helpers

    /// The next frame from the gateway, which must be a CALL.
    /// The station moves to another gateway instance mid-queue: the CALL that was
    /// outstanding on the old connection times out (never resent), and the rest of
    /// the queue is delivered by the new gateway.
    @Test func deliveryContinuesAfterTheStationMovesToAnotherGateway() async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let first = try await GatewayHarness.start(database: configuration)
            let second: GatewayHarness
            do {
                second = try await GatewayHarness.start(database: configuration)
            } catch {
                try? await first.stop()
                throw error
            }
            do {
                let queue = CommandQueue(client: client, logger: TestDatabase.logger)
                let onFirst = try await TestStation.connect(port: first.port, identity: "CP-MOVE")
                _ = try await onFirst.callResult("Heartbeat", [:])
                let clearCache = try OutboundCommand(action: "ClearCache", payload: JSONObject([]))
                var ids: [String] = []
                for _ in 0..<3 { ids.append(try await queue.enqueue(clearCache, to: "CP-MOVE")) }

                #expect(try await nextCall(onFirst).messageID == ids[0])
                try await onFirst.send(#"[3,"\#(ids[0])",{"status":"Accepted"}]"#)
                // The second is sent on the first gateway and left unanswered.
                #expect(try await nextCall(onFirst).messageID == ids[1])

                let onSecond = try await TestStation.connect(port: second.port, identity: "CP-MOVE")
                #expect(try await nextCall(onSecond).messageID == ids[2])
                try await onSecond.send(#"[3,"\#(ids[2])",{"status":"Accepted"}]"#)
                try await eventually("the first answered, the second timed out, the third answered") {
                    [
                        try await status(of: ids[0], client), try await status(of: ids[1], client),
                        try await status(of: ids[2], client),
                    ] == ["answered", "timed_out", "answered"]
                }
                #expect(
                    try await client.scalar(
                        "SELECT sent_by_gateway FROM ocpp.station_messages WHERE message_id = \(ids[2])",
                        as: String.self) == second.gatewayID)
                await onSecond.close()
                await onFirst.close()
            } catch {
                try? await second.stop()
                try? await first.stop()
                throw error
            }
            try await second.stop()
            try await first.stop()
        }
    }

    private func nextCall(_ station: TestStation) async throws -> Call {
        let text = try #require(try await station.nextReply())
        guard case .call(let call) = try OCPPFrame.decode(text) else {
            throw OutboundDeliveryTestError.notACall(text)
        }
        return call
    }

    private func status(of messageID: String, _ client: PostgresClient) async throws -> String {
        try await client.scalar(
            "SELECT status FROM ocpp.station_messages WHERE message_id = \(messageID)", as: String.self)
    }

    private func withGateway(
        configure: @escaping @Sendable (inout GatewaySettings) -> Void = { _ in },
        _ body: @Sendable (PostgresClient, CommandQueue, GatewayHarness) async throws -> Void
    ) async throws {
        try await GatewayHarness.withGateway(configure: configure) { client, _, gateway in
            try await body(client, CommandQueue(client: client, logger: TestDatabase.logger), gateway)
        }
    }
}

enum OutboundDeliveryTestError: Error {
    case notACall(String)
}
