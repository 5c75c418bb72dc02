import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

/// One charging session, from a station's WebSocket through a real gateway and a
/// real worker to the domain tables: the path every station message takes in
/// production, with no step faked.
@Suite("Full charging session: gateway, worker, tables", .serialized, .timeLimit(.minutes(2)))
struct FullChargingSessionTests {
    static let identity = "CP-SESSION"
    static let idTag = "TAG-E2E"

    /// Work rows of the session while connected: the connect event and ten CALLs.
    static let rowsWhileConnected = 11

    @Test func aChargingSessionEndsUpInEveryTable() async throws {
        try await withGatewayAndWorker { client, gateway in
            try await chargeAndCheck(client: client, gateway: gateway)
        }
    }

    private func chargeAndCheck(client: PostgresClient, gateway: GatewayHarness) async throws {
        // Station times in the recent past: old enough to be ordered, young enough
        // that the worker's archive and retention jobs leave the meter values alone.
        let session = SessionClock(start: Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 600).rounded()))
        let station = try await TestStation.connect(port: gateway.port, identity: Self.identity)
        let transactionID = try await charge(station, clock: session)

        // While the station is connected: everything applied, and the station online.
        try await waitUntilApplied(client: client, rows: Self.rowsWhileConnected)
        try await expectStation(client: client, online: true, gatewayID: gateway.gatewayID)

        await station.close()
        // The disconnect is journaled by the gateway after the socket ends.
        try await waitUntilApplied(client: client, rows: Self.rowsWhileConnected + 1)
        try await expectStation(client: client, online: false, gatewayID: gateway.gatewayID)
        try await expectConnectors(client: client, clock: session)
        try await expectTransaction(client: client, id: transactionID, clock: session)
        try await expectMeterValues(client: client, transactionID: transactionID)
        #expect(
            try await client.scalar("SELECT count(*) FROM ocpp.inbox_refusals", as: Int.self) == 0)
    }

    // MARK: The station's side

    /// Plays the session; returns the transaction id the gateway allocated.
    private func charge(_ station: TestStation, clock: SessionClock) async throws -> Int64 {
        let boot = try await station.callResult(
            "BootNotification",
            [
                "chargePointVendor": "SwiftCharge", "chargePointModel": "E2E-22",
                "chargePointSerialNumber": "SN-0042", "firmwareVersion": "1.2.3",
            ])
        #expect(boot["status"] == "Accepted")
        for connector: Int64 in [0, 1] {
            _ = try await station.callResult("StatusNotification", status(connector, "Available", at: clock[0]))
        }
        let authorized = try await station.callResult("Authorize", ["idTag": .string(Self.idTag)])
        guard case .object(let authorization)? = authorized["idTagInfo"] else { throw SessionError.noIdTagInfo }
        #expect(authorization["status"] == "Accepted")

        let started = try await station.callResult(
            "StartTransaction",
            ["connectorId": 1, "idTag": .string(Self.idTag), "meterStart": 1000, "timestamp": .string(clock[60])])
        guard case .integer(let transactionID)? = started["transactionId"], transactionID > 0 else {
            throw SessionError.noTransactionID
        }
        _ = try await station.callResult("StatusNotification", status(1, "Charging", at: clock[61]))

        for (second, energy, power) in [(120, "1500", "7200"), (180, "2500", "7100")] {
            var samples: [JSONValue] = [
                ["value": .string(energy), "measurand": "Energy.Active.Import.Register", "unit": "Wh"],
                ["value": .string(power), "measurand": "Power.Active.Import", "unit": "W"],
            ]
            if second == 120 {
                samples += [
                    ["value": "230.1", "measurand": "Voltage", "phase": "L1-N", "unit": "V"],
                    ["value": "31.3", "measurand": "Current.Import", "phase": "L1", "unit": "A"],
                ]
            }
            _ = try await station.callResult(
                "MeterValues",
                [
                    "connectorId": 1, "transactionId": .integer(transactionID),
                    "meterValue": [["timestamp": .string(clock[second]), "sampledValue": .array(samples)]],
                ])
        }

        _ = try await station.callResult(
            "StopTransaction",
            [
                "transactionId": .integer(transactionID), "idTag": .string(Self.idTag), "meterStop": 3000,
                "timestamp": .string(clock[300]), "reason": "EVDisconnected",
                "transactionData": [
                    [
                        "timestamp": .string(clock[60]),
                        "sampledValue": [["value": "1000", "context": "Transaction.Begin"]],
                    ],
                    [
                        "timestamp": .string(clock[300]),
                        "sampledValue": [["value": "3000", "context": "Transaction.End"]],
                    ],
                ],
            ])
        _ = try await station.callResult("StatusNotification", status(1, "Available", at: clock[301]))
        return transactionID
    }

    private func status(_ connector: Int64, _ status: String, at time: String) -> JSONValue {
        [
            "connectorId": .integer(connector), "errorCode": "NoError", "status": .string(status),
            "timestamp": .string(time),
        ]
    }

    // MARK: The tables

    /// Waits until the inbox holds `rows` work rows and the worker has applied all of them.
    private func waitUntilApplied(client: PostgresClient, rows: Int) async throws {
        try await eventually("the worker applies \(rows) work rows") {
            let counts = try await client.query(
                "SELECT count(*), (SELECT count(*) FROM ocpp.inbox_pending) FROM ocpp.inbox",
                logger: TestDatabase.logger
            ).collect()
            let (total, pending) = try counts[0].decode((Int, Int).self)
            return total == rows && pending == 0
        }
    }

    private func expectStation(client: PostgresClient, online: Bool, gatewayID: String) async throws {
        let rows = try await client.query(
            """
            SELECT vendor, model, serial_number, firmware_version, registration_status, boot_status, online,
                   session_gateway_id, last_boot_at IS NOT NULL, last_seen_at IS NOT NULL, disconnected_at IS NOT NULL
            FROM ocpp.stations WHERE identity = \(Self.identity)
            """, logger: TestDatabase.logger
        ).collect()
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        let (vendor, model, serial, firmware, registration, boot, isOnline, gateway, booted, seen, disconnected) =
            try row.decode(
                (String?, String?, String?, String?, String, String?, Bool, String?, Bool, Bool, Bool).self)
        #expect(vendor == "SwiftCharge")
        #expect(model == "E2E-22")
        #expect(serial == "SN-0042")
        #expect(firmware == "1.2.3")
        #expect(registration == "Accepted")
        #expect(boot == "Accepted")
        #expect(isOnline == online)
        #expect(gateway == gatewayID)
        #expect(booted && seen)
        #expect(disconnected == !online)
    }

    private func expectConnectors(client: PostgresClient, clock: SessionClock) async throws {
        let current = try await client.query(
            """
            SELECT connector_id, status, error_code, status_at = \(clock[301])::timestamptz
            FROM ocpp.connectors ORDER BY connector_id
            """, logger: TestDatabase.logger
        ).collect().map { try $0.decode((Int, String?, String?, Bool).self) }
        #expect(current.map(\.0) == [0, 1])
        #expect(current.map(\.1) == ["Available", "Available"])
        #expect(current.map(\.2) == ["NoError", "NoError"])
        // The newest status is the one of the last notification, not the Charging before it.
        #expect(current.last?.3 == true)

        let history = try await client.query(
            "SELECT connector_id, status FROM ocpp.status_events ORDER BY connector_id, status_at",
            logger: TestDatabase.logger
        ).collect().map { try $0.decode((Int, String).self) }
        #expect(history.map(\.0) == [0, 1, 1, 1])
        #expect(history.map(\.1) == ["Available", "Available", "Charging", "Available"])
    }

    private func expectTransaction(client: PostgresClient, id: Int64, clock: SessionClock) async throws {
        #expect(try await client.scalar("SELECT count(*) FROM ocpp.transactions", as: Int.self) == 1)
        let rows = try await client.query(
            """
            SELECT connector_id, id_tag, meter_start, meter_stop, stop_id_tag, stop_reason, status,
                   started_at = \(clock[60])::timestamptz, stopped_at = \(clock[300])::timestamptz
            FROM ocpp.transactions WHERE id = \(id)
            """, logger: TestDatabase.logger
        ).collect()
        let row = try #require(rows.first)
        let (connector, tag, meterStart, meterStop, stopTag, reason, status, startedAt, stoppedAt) =
            try row.decode((Int?, String?, Int64?, Int64?, String?, String?, String, Bool?, Bool?).self)
        #expect(connector == 1)
        #expect(tag == Self.idTag)
        #expect(meterStart == 1000)
        #expect(meterStop == 3000)
        #expect(stopTag == Self.idTag)
        #expect(reason == "EVDisconnected")
        #expect(status == "Completed")
        #expect(startedAt == true)
        #expect(stoppedAt == true)
    }

    private func expectMeterValues(client: PostgresClient, transactionID: Int64) async throws {
        // Two MeterValues (four and two samples) and the stop's two: eight rows, all of
        // connector 1, the stop's included (it names only the transaction).
        #expect(try await client.scalar("SELECT count(*) FROM ocpp.meter_values", as: Int.self) == 8)
        #expect(
            try await client.scalar(
                "SELECT count(*) FROM ocpp.meter_values WHERE transaction_id = \(transactionID) AND connector_id = 1",
                as: Int.self) == 8)

        let energy = try await client.query(
            """
            SELECT value, context FROM ocpp.meter_values
            WHERE transaction_id = \(transactionID) AND measurand = 'Energy.Active.Import.Register'
            ORDER BY sampled_at
            """, logger: TestDatabase.logger
        ).collect().map { try $0.decode((Double?, String).self) }
        #expect(energy.map(\.0) == [1000, 1500, 2500, 3000])
        #expect(energy.map(\.1) == ["Transaction.Begin", "Sample.Periodic", "Sample.Periodic", "Transaction.End"])

        let voltage = try await client.query(
            "SELECT phase, unit, value FROM ocpp.meter_values WHERE measurand = 'Voltage'", logger: TestDatabase.logger
        ).collect().map { try $0.decode((String, String, Double?).self) }
        #expect(voltage.count == 1)
        #expect(voltage.first?.0 == "L1-N")
        #expect(voltage.first?.1 == "V")
        #expect(voltage.first?.2 == 230.1)
    }
}

private enum SessionError: Error {
    case noIdTagInfo
    case noTransactionID
}

/// Station timestamps of the session: `clock[60]` is one minute after its start.
private struct SessionClock {
    let start: Date

    subscript(seconds: Int) -> String {
        RFC3339.format(start.addingTimeInterval(TimeInterval(seconds)))
    }
}
