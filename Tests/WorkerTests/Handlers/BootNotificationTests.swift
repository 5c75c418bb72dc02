import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// ``StationStateHandler``: the newest boot's details and answer, and last seen.
@Suite("BootNotification and last seen")
struct BootNotificationTests {
    static func boot(model: String, firmware: String, status: String, at seconds: Int) -> InboxFixture.Row {
        .call(
            "BootNotification",
            json: [
                "chargePointVendor": "Acme", "chargePointModel": .string(model),
                "chargePointSerialNumber": "CP-SN-1", "chargeBoxSerialNumber": "BOX-SN-1",
                "firmwareVersion": .string(firmware), "iccid": "8931440000000000001", "imsi": "262010000000001",
                "meterType": "EEM-350", "meterSerialNumber": "M-77",
            ],
            response: [
                "status": .string(status), "currentTime": .string(RFC3339.format(TestTime.at(seconds))),
                "interval": 300,
            ],
            receivedAt: TestTime.at(seconds))
    }

    @Test func aBootStoresTheStationDetailsAndTheAnswer() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            try await fixture.insert(
                [Self.boot(model: "Fast-50", firmware: "1.2.3", status: "Pending", at: 10)], station: station)
            try await fixture.drain()

            let row = try await fixture.row(
                """
                SELECT vendor, model, serial_number, charge_box_serial_number, firmware_version, iccid, imsi,
                       meter_type, meter_serial_number, boot_status, last_boot_at
                FROM ocpp.stations WHERE id = \(station)
                """)
            #expect(row["vendor"] == "Acme")
            #expect(row["model"] == "Fast-50")
            #expect(row["serial_number"] == "CP-SN-1")
            #expect(row["charge_box_serial_number"] == "BOX-SN-1")
            #expect(row["firmware_version"] == "1.2.3")
            #expect(row["iccid"] == "8931440000000000001")
            #expect(row["imsi"] == "262010000000001")
            #expect(row["meter_type"] == "EEM-350")
            #expect(row["meter_serial_number"] == "M-77")
            #expect(row["boot_status"] == "Pending")
            #expect(row["last_boot_at"]?.date == TestTime.at(10))
        }
    }

    /// A worker that applies an old boot late (another worker, a slower batch) must not
    /// roll the station back to the firmware and answer of that boot.
    @Test(arguments: [false, true])
    func anOlderBootAppliedAfterANewerOneChangesNothing(inOneBatch: Bool) async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let newer = Self.boot(model: "Fast-50", firmware: "2.0", status: "Accepted", at: 20)
            let older = Self.boot(model: "Fast-50", firmware: "1.0", status: "Pending", at: 10)
            // In one batch the older boot gets the higher inbox id: the later row of the batch.
            try await fixture.apply([newer, older], station: station, inOneBatch: inOneBatch)

            let row = try await fixture.row(
                "SELECT firmware_version, boot_status, last_boot_at FROM ocpp.stations WHERE id = \(station)")
            #expect(row["firmware_version"] == "2.0")
            #expect(row["boot_status"] == "Accepted")
            #expect(row["last_boot_at"]?.date == TestTime.at(20))
        }
    }

    static func lastSeen(of station: Int64, in fixture: InboxFixture) async throws -> Date? {
        try await fixture.row("SELECT last_seen_at FROM ocpp.stations WHERE id = \(station)")["last_seen_at"]?.date
    }

    @Test func lastSeenIsTheNewestReceiveTimeOfAnyRow() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let session = UUID()
            // The newest row is neither the last inserted nor a CALL.
            try await fixture.insert(
                [
                    .call(
                        "Heartbeat", json: [:], response: ["currentTime": "2025-06-01T10:00:30Z"],
                        receivedAt: TestTime.at(30)),
                    .presence("connected", session: session, connectedAt: TestTime.at(40), receivedAt: TestTime.at(40)),
                    .call(
                        "StatusNotification", json: ["connectorId": 1, "status": "Available", "errorCode": "NoError"],
                        receivedAt: TestTime.at(20)),
                ], station: station)
            try await fixture.drain()
            #expect(try await Self.lastSeen(of: station, in: fixture) == TestTime.at(40))

            // A row received earlier, applied later, does not move it back.
            try await fixture.insert([.call("Heartbeat", json: [:], receivedAt: TestTime.at(5))], station: station)
            try await fixture.drain()
            #expect(try await Self.lastSeen(of: station, in: fixture) == TestTime.at(40))

            // A newer one does.
            try await fixture.insert([.call("Heartbeat", json: [:], receivedAt: TestTime.at(50))], station: station)
            try await fixture.drain()
            #expect(try await Self.lastSeen(of: station, in: fixture) == TestTime.at(50))
        }
    }
}
