import Foundation
import NIOWebSocket
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing
import WSCore

@testable import Gateway

/// Real gateway instances, a real database and real WebSocket clients.
@Suite("Gateway end to end", .serialized, .timeLimit(.minutes(2)))
struct GatewayEndToEndTests {
    @Test func answersEveryStationInitiatedActionAndJournalsIt() async throws {
        try await withGateway { client, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-ALL")
            for (action, payload) in StationExamples.calls {
                let result = try await station.callResult(action.rawValue, payload)
                // The answer is a valid response of the action.
                _ = try action.decodeResponse(.object(result))
            }
            await station.close()
            let journaled = try await client.scalar(
                "SELECT count(*) FROM ocpp.inbox WHERE kind = 'call'", as: Int.self)
            #expect(journaled == StationExamples.calls.count)
            #expect(
                Set(StationExamples.calls.map(\.action))
                    == Set(
                        OCPPAction.allCases.filter {
                            $0.directions.contains(.chargePointToCentralSystem)
                        }))
        }
    }

    /// Each malformed or refused CALL gets its precise CALLERROR, and the connection
    /// stays open: all go over one connection, each followed by an answered Heartbeat.
    static let badCalls: [(frame: String, code: OCPPErrorCode, replyID: String)] = [
        (#"[2,"e1","FlyToTheMoon",{}]"#, .notImplemented, "e1"),
        (#"[2,"e2","Reset",{"type":"Hard"}]"#, .notSupported, "e2"),
        ("this is not json", .formationViolation, "-1"),
        (#"[2,"e3","Heartbeat",{"extra":1}]"#, .formationViolation, "e3"),
        (#"[2,"e4","Heartbeat"]"#, .protocolError, "e4"),
        (#"[2,"e5","Authorize",{"idTag":"012345678901234567890"}]"#, .propertyConstraintViolation, "e5"),
        (#"[2,"e6","BootNotification",{"chargePointVendor":"V"}]"#, .occurenceConstraintViolation, "e6"),
        (
            #"[2,"e7","StatusNotification",{"connectorId":"1","errorCode":"NoError","status":"Available"}]"#,
            .typeConstraintViolation, "e7"
        ),
        // Valid JSON that PostgreSQL's JSON types cannot store.
        (#"[2,"e8","DataTransfer",{"vendorId":"V","data":"a\u0000b"}]"#, .propertyConstraintViolation, "e8"),
    ]

    @Test func refusesBadCallsWithTheRightCodeAndStaysOpen() async throws {
        try await withGateway { _, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-ERR")
            for bad in Self.badCalls {
                try await station.send(bad.frame)
                let reply = try #require(try await station.nextReply())
                guard case .callError(let error) = try OCPPFrame.decode(reply) else {
                    Issue.record("expected a CALLERROR for \(bad.frame), got \(reply)")
                    continue
                }
                #expect(error.errorCode == bad.code, "\(bad.frame)")
                #expect(error.messageID == bad.replyID, "\(bad.frame)")
                _ = try await station.callResult("Heartbeat", [:])
            }
            await station.close()
        }
    }

    @Test func aStationWithoutTheSubprotocolIsClosedAfterTheHandshake() async throws {
        try await withGateway { _, gateway in
            for offered in [[], ["ocpp2.0.1"]] {
                let station = try await TestStation.connect(
                    port: gateway.port, identity: "CP-NOPROTO", subprotocols: offered)
                let close = try await station.closed()
                #expect(close?.closeCode == .protocolError)
            }
        }
    }

    @Test func pendingStationsMayOnlyBootUntilAccepted() async throws {
        try await withGateway(configure: { $0.registrationPolicy = .pending }) { client, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-NEW")
            let boot = try await station.callResult(
                "BootNotification", ["chargePointVendor": "V", "chargePointModel": "M"])
            #expect(boot["status"] == "Pending")
            #expect(boot["interval"] == 60)
            guard case .callError(let refused) = try await station.call("Heartbeat", [:]) else {
                Issue.record("a pending station's Heartbeat must be refused")
                return
            }
            #expect(refused.errorCode == .securityError)

            // An operator accepts the station; its next boot is Accepted.
            try await client.query(
                "UPDATE ocpp.stations SET registration_status = 'Accepted' WHERE identity = 'CP-NEW'")
            let accepted = try await station.callResult(
                "BootNotification", ["chargePointVendor": "V", "chargePointModel": "M"])
            #expect(accepted["status"] == "Accepted")
            _ = try await station.callResult("Heartbeat", [:])
            await station.close()
        }
    }

    @Test func theOpenPolicyRegistersUnknownStationsAsAccepted() async throws {
        try await withGateway { client, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-OPEN")
            _ = try await station.callResult("Heartbeat", [:])
            await station.close()
            #expect(
                try await client.scalar(
                    "SELECT registration_status FROM ocpp.stations WHERE identity = 'CP-OPEN'", as: String.self)
                    == "Accepted")
        }
    }

    @Test func aRetransmittedCallOnAnotherGatewayGetsTheSameAnswerAndNoSecondRow() async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let first = try await GatewayHarness.start(database: configuration)
            let second = try await GatewayHarness.start(database: configuration)
            let start: JSONValue = [
                "connectorId": 1, "idTag": "TAG-1", "meterStart": 5, "timestamp": "2024-05-01T10:00:00Z",
            ]

            let onFirst = try await TestStation.connect(port: first.port, identity: "CP-RETRY")
            let original = try await onFirst.callResult("StartTransaction", start, id: "start-1")
            await onFirst.close()

            let onSecond = try await TestStation.connect(port: second.port, identity: "CP-RETRY")
            let resent = try await onSecond.callResult("StartTransaction", start, id: "start-1")
            #expect(resent == original)
            // The same content under a new unique id: the same transaction.
            let retried = try await onSecond.callResult("StartTransaction", start, id: "start-2")
            #expect(retried["transactionId"] == original["transactionId"])
            // Another meterStart is another start.
            var other = start
            if case .object(var object) = other {
                object.members[2].value = 6
                other = .object(object)
            }
            let another = try await onSecond.callResult("StartTransaction", other, id: "start-3")
            #expect(another["transactionId"] != original["transactionId"])
            await onSecond.close()

            #expect(
                try await client.scalar(
                    "SELECT count(*) FROM ocpp.inbox WHERE message_id = 'start-1'", as: Int.self) == 1)
            try await first.stop()
            try await second.stop()
        }
    }

    @Test func aNewConnectionTakesOverTheSessionOnAnotherGateway() async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let first = try await GatewayHarness.start(database: configuration)
            let second = try await GatewayHarness.start(database: configuration)

            let old = try await TestStation.connect(port: first.port, identity: "CP-MOVE")
            _ = try await old.callResult("Heartbeat", [:])
            let new = try await TestStation.connect(port: second.port, identity: "CP-MOVE")
            // The first gateway closes the old connection when told by NOTIFY.
            _ = try await old.closed()
            _ = try await new.callResult("Heartbeat", [:])
            #expect(
                try await client.scalar(
                    """
                    SELECT gateway_id FROM ocpp.station_sessions JOIN ocpp.stations ON stations.id = station_id
                    WHERE identity = 'CP-MOVE'
                    """, as: String.self) == second.gatewayID)

            // And on the same gateway too.
            let newest = try await TestStation.connect(port: second.port, identity: "CP-MOVE")
            _ = try await new.closed()
            _ = try await newest.callResult("Heartbeat", [:])
            await newest.close()
            try await first.stop()
            try await second.stop()
        }
    }

    /// Session rows commit without waiting for the disk, so a database crash can
    /// lose one: when the gateway's LISTEN comes back, a connection whose row is
    /// gone is closed (the station reconnects and writes it again); the others stay.
    @Test func aConnectionWhoseSessionRowWasLostIsClosedWhenTheListenReconnects() async throws {
        try await withGateway { client, gateway in
            let lost = try await TestStation.connect(port: gateway.port, identity: "CP-LOST")
            let kept = try await TestStation.connect(port: gateway.port, identity: "CP-KEPT")
            _ = try await lost.callResult("Heartbeat", [:])
            _ = try await kept.callResult("Heartbeat", [:])
            try await client.query(
                """
                DELETE FROM ocpp.station_sessions USING ocpp.stations
                WHERE stations.id = station_id AND identity = 'CP-LOST'
                """, logger: TestDatabase.logger)
            let ended = try await client.scalar(
                """
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = current_database() AND query LIKE 'LISTEN%'
                """, as: Int.self)
            #expect(ended == 1)
            _ = try await lost.closed()
            _ = try await kept.callResult("Heartbeat", [:])

            let again = try await TestStation.connect(port: gateway.port, identity: "CP-LOST")
            _ = try await again.callResult("Heartbeat", [:])
            #expect(
                try await client.scalar(
                    """
                    SELECT count(*) FROM ocpp.station_sessions JOIN ocpp.stations ON stations.id = station_id
                    WHERE identity IN ('CP-LOST', 'CP-KEPT')
                    """, as: Int.self) == 2)
            await again.close()
            await kept.close()
        }
    }

    @Test func noAnswerIsSentBeforeTheWorkRowIsCommitted() async throws {
        try await withGateway { client, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-ACK")
            _ = try await station.callResult("Heartbeat", [:])
            try await client.withTransaction(logger: TestDatabase.logger) { connection in
                try await connection.query(
                    "LOCK TABLE ocpp.inbox IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.logger)
                try await station.send(#"[2,"held","Heartbeat",{}]"#)
                await #expect(throws: TestStationError.self) { try await station.nextReply(timeout: .seconds(1)) }
            }
            let reply = try #require(try await station.nextReply())
            #expect(try OCPPFrame.decode(reply).messageID == "held")
            await station.close()
        }
    }

    @Test func gracefulShutdownAnswersTheCallInFlightThenClosesWith1001() async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let gateway = try await GatewayHarness.start(database: configuration)
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-STOP")
            _ = try await station.callResult("Heartbeat", [:])
            let stopping = try await client.withTransaction(logger: TestDatabase.logger) { connection in
                try await connection.query(
                    "LOCK TABLE ocpp.inbox IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.logger)
                try await station.send(#"[2,"in-flight","Heartbeat",{}]"#)
                try await Task.sleep(for: .milliseconds(200))
                return Task { try await gateway.stop() }
            }
            let reply = try #require(try await station.nextReply())
            #expect(try OCPPFrame.decode(reply).messageID == "in-flight")
            let close = try await station.closed()
            #expect(close?.closeCode == .goingAway)
            try await stopping.value
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.station_sessions", as: Int.self) == 0)
        }
    }

    @Test func aDatabaseOutageIsNeitherAcknowledgedNorFatal() async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let gateway = try await GatewayHarness.start(database: configuration) { $0.ingestTimeout = .seconds(2) }
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-OUTAGE")
            _ = try await station.callResult("Heartbeat", [:])

            let name = try #require(configuration.database)
            try await TestDatabase.setConnectionsAllowed(false, database: name)
            guard case .callError(let error) = try await station.call("Heartbeat", [:]) else {
                Issue.record("nothing may be acknowledged while the database is down")
                return
            }
            #expect(error.errorCode == .internalError)

            try await TestDatabase.setConnectionsAllowed(true, database: name)
            // The same connection is served again once the database is back.
            var answered = false
            for _ in 0..<30 where !answered {
                if case .callResult = try await station.call("Heartbeat", [:]) { answered = true }
            }
            #expect(answered)
            await station.close()
            try await gateway.stop()
        }
    }

    /// Clock offsets are written in batches by ``ClockOffsetWriter``: each station's
    /// newest offset reaches its own session row, and only that one.
    @Test func eachStationsNewestClockOffsetReachesItsSessionRow() async throws {
        try await withGateway(configure: { $0.clockOffsetInterval = .milliseconds(100) }) { client, gateway in
            var stations: [TestStation] = []
            // Two minutes fast, then five minutes slow; one hour slow.
            for (identity, offsets) in [("CP-CLOCK-A", [120, -300]), ("CP-CLOCK-B", [-3600])] {
                let station = try await TestStation.connect(port: gateway.port, identity: identity)
                for seconds in offsets {
                    _ = try await station.callResult(
                        "StatusNotification",
                        [
                            "connectorId": 1, "errorCode": "NoError", "status": "Available",
                            "timestamp": .string(RFC3339.format(Date().addingTimeInterval(Double(seconds)))),
                        ])
                }
                stations.append(station)
            }
            for (identity, seconds) in [("CP-CLOCK-A", -300), ("CP-CLOCK-B", -3600)] {
                try await eventually("\(identity)'s offset is recorded") {
                    let milliseconds = try await client.scalar(
                        """
                        SELECT clock_offset_ms FROM ocpp.station_sessions AS s JOIN ocpp.stations AS t ON t.id = s.station_id
                        WHERE t.identity = \(identity)
                        """, as: Int64?.self)
                    // Within a few seconds of the offset sent (the receive time and the
                    // test's clock differ by the round trip).
                    return milliseconds.map { abs($0 - Int64(seconds) * 1000) < 5000 } ?? false
                }
            }
            for station in stations { await station.close() }
        }
    }

    // MARK: Helpers

    private func withGateway(
        configure: @escaping @Sendable (inout GatewaySettings) -> Void = { _ in },
        _ body: @Sendable (PostgresClient, GatewayHarness) async throws -> Void
    ) async throws {
        try await GatewayHarness.withGateway(configure: configure) { client, _, gateway in
            try await body(client, gateway)
        }
    }
}
