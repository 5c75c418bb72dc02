import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

/// The four ways hostile or quirky input broke the system ([R2 1/5]), each with the
/// exact frame that did it, through a real gateway and a real worker: the answer the
/// station gets, that the gateway stays up, and what ends up in the tables.
@Suite("Hostile input end to end: the exact frames", .serialized, .timeLimit(.minutes(3)))
struct HostileInputEndToEndTests {
    // MARK: 1. One frame killed the gateway

    /// Schema-valid (the schema puts no bound on the integer), and it stopped the
    /// gateway with SIGILL while binding the batch; a negative one of the same size too.
    @Test func anIntegerBeyond32BitsIsRefusedAndTheGatewayStaysUp() async throws {
        try await withGatewayAndWorker { client, gateway in
            let station = try await Self.bootedStation(port: gateway.port, identity: "CP-HUGE")
            for frame in [
                #"[2,"s1","StartTransaction",{"connectorId":4294967296,"idTag":"T1","meterStart":0,"timestamp":"2026-12-06T16:00:00Z"}]"#,
                #"[2,"s2","StartTransaction",{"connectorId":-4294967296,"idTag":"T1","meterStart":0,"timestamp":"2026-12-06T16:00:00Z"}]"#,
                #"[2,"s3","StartTransaction",{"connectorId":1,"idTag":"T1","meterStart":0,"reservationId":2147483648,"timestamp":"2026-12-06T16:00:00Z"}]"#,
                #"[2,"s4","MeterValues",{"connectorId":1,"transactionId":99999999999999999999,"meterValue":[{"timestamp":"2026-12-06T16:00:00Z","sampledValue":[{"value":"1"}]}]}]"#,
            ] {
                let error = try await Self.callError(station, frame)
                #expect(error.errorCode == .propertyConstraintViolation, "\(frame)")
            }
            // The same connection, and a new one, are still served.
            _ = try await station.callResult("Heartbeat", [:])
            let another = try await Self.bootedStation(port: gateway.port, identity: "CP-NEXT")
            _ = try await another.callResult("Heartbeat", [:])
            await station.close()
            await another.close()
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.transaction_starts", as: Int.self) == 0)
        }
    }

    // MARK: 2. Acknowledged, then set aside

    /// What the worker used to refuse after the station had its CALLRESULT is now
    /// either refused up front (negative connector) or stored (any UTC offset, a
    /// meterStart beyond 32 bits, which is a bigint).
    @Test func whatIsAcknowledgedIsApplied() async throws {
        try await withGatewayAndWorker { client, gateway in
            let station = try await Self.bootedStation(port: gateway.port, identity: "CP-ACK")
            let refused = try await Self.callError(
                station, #"[2,"a1","StatusNotification",{"connectorId":-1,"errorCode":"NoError","status":"Available"}]"#
            )
            #expect(refused.errorCode == .propertyConstraintViolation)

            // A recent instant, written in the +17:17 offset PostgreSQL cannot parse.
            let instant = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 120).rounded())
            let local = Self.text(instant, offset: "+17:17", seconds: 17 * 3600 + 17 * 60)
            _ = try await Self.callResult(
                station,
                #"[2,"a2","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"\#(local)","sampledValue":[{"value":"10"}]}]}]"#
            )
            _ = try await Self.callResult(
                station, #"[2,"a3","StopTransaction",{"meterStop":100,"timestamp":"\#(local)","transactionId":1}]"#)
            let start = try await Self.callResult(
                station,
                #"[2,"a4","StartTransaction",{"connectorId":1,"idTag":"T1","meterStart":1099511627776,"timestamp":"\#(local)"}]"#
            )
            guard case .integer(let transactionID)? = start["transactionId"] else {
                Issue.record("no transaction id in \(start)")
                return
            }

            try await Self.waitUntilApplied(client)
            #expect(try await Self.setAside(client) == 0)
            #expect(
                try await client.scalar(
                    "SELECT sampled_at = \(instant) FROM ocpp.meter_values WHERE station_id = (SELECT id FROM ocpp.stations WHERE identity = 'CP-ACK')",
                    as: Bool.self))
            #expect(
                try await client.scalar(
                    "SELECT meter_start FROM ocpp.transactions WHERE id = \(Int32(transactionID))", as: Int64.self)
                    == 1_099_511_627_776)
            await station.close()
        }
    }

    // MARK: 3. Stale answers for reused message ids

    /// Chargers restart their id counters at boot: the same id (and payload) later is
    /// a new message, answered now.
    @Test func aReusedIdGetsAFreshAnswer() async throws {
        try await withGatewayAndWorker { client, gateway in
            let station = try await Self.bootedStation(port: gateway.port, identity: "CP-REUSE")
            let first = try await Self.callResult(station, #"[2,"hb-1","Heartbeat",{}]"#)
            try await Task.sleep(for: .milliseconds(1100))
            let second = try await Self.callResult(station, #"[2,"hb-1","Heartbeat",{}]"#)
            #expect(first["currentTime"] != second["currentTime"])

            // Status changes under reused ids (no timestamp: timed by their receipt).
            for frame in [
                #"[2,"5","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Charging"}]"#,
                #"[2,"6","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]"#,
                #"[2,"5","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Charging"}]"#,
            ] {
                _ = try await Self.callResult(station, frame)
                try await Task.sleep(for: .milliseconds(20))
            }
            try await Self.waitUntilApplied(client)
            #expect(
                try await client.scalar(
                    "SELECT count(*) FROM ocpp.inbox WHERE action IN ('Heartbeat', 'StatusNotification')", as: Int.self)
                    == 5)
            #expect(
                try await client.scalar(
                    "SELECT status FROM ocpp.connectors WHERE connector_id = 1", as: String.self) == "Charging")
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.status_events", as: Int.self) == 3)
            await station.close()
        }
    }

    /// The transaction messages stay deduplicated by content, whatever the id: a
    /// MeterValues resent under a new id is one journal row, and its samples one copy.
    @Test func aResentMeterValuesUnderANewIdIsStoredOnce() async throws {
        try await withGatewayAndWorker { client, gateway in
            let station = try await Self.bootedStation(port: gateway.port, identity: "CP-RESEND")
            let at = RFC3339.format(Date().addingTimeInterval(-60))
            let payload = #"{"connectorId":1,"meterValue":[{"timestamp":"\#(at)","sampledValue":[{"value":"42"}]}]}"#
            _ = try await Self.callResult(station, #"[2,"m-1","MeterValues",\#(payload)]"#)
            _ = try await Self.callResult(station, #"[2,"m-2","MeterValues",\#(payload)]"#)
            try await Self.waitUntilApplied(client)
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.meter_values", as: Int.self) == 1)
            await station.close()
        }
    }

    // MARK: 4. An acknowledged sample dropped

    @Test func theSameReadingAsWhKWhAndSignedIsThreeRows() async throws {
        try await withGatewayAndWorker { client, gateway in
            let station = try await Self.bootedStation(port: gateway.port, identity: "CP-UNITS")
            let at = RFC3339.format(Date().addingTimeInterval(-60))
            _ = try await Self.callResult(
                station,
                #"""
                [2,"u1","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"\#(at)","sampledValue":[{"value":"12345","measurand":"Energy.Active.Import.Register","unit":"Wh"},{"value":"12.345","measurand":"Energy.Active.Import.Register","unit":"kWh"},{"value":"AP;0;3;ALCV3ABBBISB","measurand":"Energy.Active.Import.Register","format":"SignedData"}]}]}]
                """#)
            try await Self.waitUntilApplied(client)
            let rows = try await client.query(
                "SELECT unit, format FROM ocpp.meter_values ORDER BY unit, format", logger: TestDatabase.logger
            ).collect().map { try $0.decode((String, String).self) }
            #expect(rows.map { "\($0.0)/\($0.1)" } == ["Wh/Raw", "Wh/SignedData", "kWh/Raw"])
            await station.close()
        }
    }

    // MARK: Tolerant stations

    /// A station set to tolerant (here in SQL, as an operator may) sends what its
    /// firmware sends; a strict one gets the CALLERRORs; both get strictly valid
    /// answers, and what the tolerant one sent is stored normalized.
    @Test func aTolerantStationIsAcceptedAndStoredNormalized() async throws {
        try await withGatewayAndWorker { client, gateway in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status, validation_mode) VALUES ('CP-QUIRKY', 'Accepted', 'tolerant')",
                logger: TestDatabase.logger)
            let quirky = try await Self.bootedStation(port: gateway.port, identity: "CP-QUIRKY")
            let strict = try await Self.bootedStation(port: gateway.port, identity: "CP-STRICT")
            let now = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 60).rounded())
            let zoneless = String(RFC3339.format(now).dropLast(5))  // "…T16:00:00", no offset
            let frames = [
                #"[2,"q1","BootNotification",{"chargePointVendor":"ACME","chargePointModel":"Wallbox-22kW-Gen3-Outdoor","iccid":null}]"#,
                #"[2,"q2","StatusNotification",{"connectorId":"1","errorCode":"NoError","status":"Available","info":"","timestamp":"\#(zoneless)"}]"#,
                #"""
                [2,"q3","MeterValues",{"connectorId":1,"transactionId":0,"meterValue":[{"timestamp":"\#(Self.text(now, offset: "+02", seconds: 7200))","sampledValue":[{"value":"12.3","measurand":"Energy.Active.Net","unit":"kW.h","phase":""}]}]}]
                """#,
            ]
            for frame in frames {
                let answer = try await Self.callResult(quirky, frame)
                let action = try #require(OCPPAction(rawValue: Self.action(of: frame)))
                _ = try action.decodeResponse(.object(answer))  // strictly valid
                let refused = try await Self.callError(strict, frame)
                #expect(refused.errorCode != .internalError, "\(frame)")
            }
            try await Self.waitUntilApplied(client)
            #expect(try await Self.setAside(client) == 0)
            let quirkyID = try await client.scalar(
                "SELECT id FROM ocpp.stations WHERE identity = 'CP-QUIRKY'", as: Int64.self)
            #expect(
                try await client.scalar("SELECT model FROM ocpp.stations WHERE id = \(quirkyID)", as: String.self)
                    == "Wallbox-22kW-Gen3-Outdoor")
            #expect(
                try await client.scalar(
                    "SELECT status_at = \(now) FROM ocpp.connectors WHERE station_id = \(quirkyID) AND connector_id = 1",
                    as: Bool.self))
            let sample = try await client.query(
                """
                SELECT unit, measurand, transaction_id IS NULL, sampled_at = \(now) FROM ocpp.meter_values
                WHERE station_id = \(quirkyID)
                """, logger: TestDatabase.logger
            ).collect()
            let (unit, measurand, noTransaction, sameTime) = try sample[0].decode((String, String, Bool, Bool).self)
            #expect(unit == "kW.h")
            #expect(measurand == "Energy.Active.Net")
            #expect(noTransaction)
            #expect(sameTime)
            await quirky.close()
            await strict.close()
        }
    }

    // MARK: Helpers

    static func bootedStation(port: Int, identity: String) async throws -> TestStation {
        let station = try await TestStation.connect(port: port, identity: identity)
        let boot = try await station.callResult(
            "BootNotification", ["chargePointVendor": "ACME", "chargePointModel": "Test"])
        #expect(boot["status"] == "Accepted")
        return station
    }

    static func callResult(_ station: TestStation, _ frame: String) async throws -> JSONObject {
        try await station.send(frame)
        let reply = try #require(try await station.nextReply())
        guard case .callResult(let result) = try OCPPFrame.decode(reply) else {
            throw HostileInputError.unexpectedReply(frame: frame, reply: reply)
        }
        return result.payload
    }

    static func callError(_ station: TestStation, _ frame: String) async throws -> CallError {
        try await station.send(frame)
        let reply = try #require(try await station.nextReply())
        guard case .callError(let error) = try OCPPFrame.decode(reply) else {
            throw HostileInputError.unexpectedReply(frame: frame, reply: reply)
        }
        return error
    }

    static func action(of frame: String) throws -> String {
        guard case .call(let call) = try OCPPFrame.decode(frame) else { return "" }
        return call.action
    }

    /// `date` as local time in a zone `seconds` east of UTC, written with `offset`.
    static func text(_ date: Date, offset: String, seconds: Int) -> String {
        let local = RFC3339.format(date.addingTimeInterval(TimeInterval(seconds)))
        return String(local.dropLast(5)) + offset  // drop ".000Z"
    }

    static func waitUntilApplied(_ client: PostgresClient) async throws {
        try await eventually("the worker applies every work row") {
            try await client.scalar("SELECT count(*) FROM ocpp.inbox_pending", as: Int.self) == 0
        }
    }

    static func setAside(_ client: PostgresClient) async throws -> Int {
        try await client.scalar("SELECT count(*) FROM ocpp.inbox_refusals", as: Int.self)
    }
}

enum HostileInputError: Error {
    case unexpectedReply(frame: String, reply: String)
}
