import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// ``StatusNotificationHandler``: the connector's current status (newest station
/// timestamp wins) and the history in `status_events` (each notification once).
@Suite("StatusNotification")
struct StatusNotificationTests {
    static func status(
        _ status: String, connector: Int = 1, errorCode: String = "NoError", at seconds: Int?, receivedAt: Int
    ) -> InboxFixture.Row {
        let stationTime = seconds.map(TestTime.at)
        var payload: [(key: String, value: JSONValue)] = [
            ("connectorId", .integer(Int64(connector))), ("status", .string(status)), ("errorCode", .string(errorCode)),
        ]
        if let stationTime {
            payload.append(("timestamp", .string(RFC3339.format(stationTime))))
        }
        return .call(
            "StatusNotification", json: .object(JSONObject(payload)), stationTime: stationTime,
            receivedAt: TestTime.at(receivedAt))
    }

    static func connector(_ id: Int, of station: Int64, in fixture: InboxFixture) async throws -> JSONValue {
        try await fixture.row(
            """
            SELECT status, error_code, info, vendor_id, vendor_error_code, status_at, status_received_at
            FROM ocpp.connectors WHERE station_id = \(station) AND connector_id = \(Int32(id))
            """)
    }

    @Test func aNotificationSetsEveryColumnOfTheConnector() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let payload: JSONValue = [
                "connectorId": 2, "status": "Faulted", "errorCode": "GroundFailure", "info": "RCD tripped",
                "vendorId": "com.acme", "vendorErrorCode": "E-42",
                "timestamp": .string(RFC3339.format(TestTime.at(100))),
            ]
            try await fixture.insert(
                [
                    .call(
                        "StatusNotification", json: payload, stationTime: TestTime.at(100), receivedAt: TestTime.at(103)
                    )
                ],
                station: station)
            try await fixture.drain()

            let connector = try await Self.connector(2, of: station, in: fixture)
            #expect(connector["status"] == "Faulted")
            #expect(connector["error_code"] == "GroundFailure")
            #expect(connector["info"] == "RCD tripped")
            #expect(connector["vendor_id"] == "com.acme")
            #expect(connector["vendor_error_code"] == "E-42")
            #expect(connector["status_at"]?.date == TestTime.at(100))
            #expect(connector["status_received_at"]?.date == TestTime.at(103))
        }
    }

    @Test func withoutATimestampTheReceiveTimeIsTheStatusTime() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            try await fixture.insert([Self.status("Available", at: nil, receivedAt: 7)], station: station)
            try await fixture.drain()

            let connector = try await Self.connector(1, of: station, in: fixture)
            #expect(connector["status"] == "Available")
            #expect(connector["info"] == .null)
            #expect(connector["status_at"]?.date == TestTime.at(7))
            let history = try await fixture.row(
                "SELECT status_at FROM ocpp.status_events WHERE station_id = \(station)")
            #expect(history["status_at"]?.date == TestTime.at(7))
        }
    }

    /// Received (and so inserted) in the opposite order of the station's timestamps:
    /// the newest timestamp must win whether the two meet in one batch or not.
    @Test(arguments: [false, true])
    func theNewestStationTimestampWinsInAnyOrder(inOneBatch: Bool) async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let newer = Self.status("Charging", at: 200, receivedAt: 210)
            let older = Self.status("Preparing", at: 100, receivedAt: 220)
            try await fixture.apply([newer, older], station: station, inOneBatch: inOneBatch)

            let connector = try await Self.connector(1, of: station, in: fixture)
            #expect(connector["status"] == "Charging")
            #expect(connector["status_at"]?.date == TestTime.at(200))
            #expect(try await fixture.count("SELECT 1 FROM ocpp.status_events WHERE station_id = \(station)") == 2)
        }
    }

    @Test func everyNotificationIsInTheHistoryOnce() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let rows = [
                Self.status("Preparing", at: 100, receivedAt: 101),
                Self.status("Charging", at: 110, receivedAt: 111),
                Self.status("Available", connector: 2, at: 110, receivedAt: 112),
            ]
            let ids = try await fixture.insert(rows, station: station)
            try await fixture.drain()

            // Replays: the same batch applied again, and the charger resending each
            // notification under a new message id.
            try await fixture.reprocess(ids)
            try await fixture.drain()
            try await fixture.insert(rows.map { $0.retried() }, station: station)
            try await fixture.drain()

            let history = try await fixture.rows(
                """
                SELECT connector_id, status, error_code, status_at FROM ocpp.status_events
                WHERE station_id = \(station) ORDER BY status_at, connector_id
                """)
            #expect(history.map { $0["status"] } == ["Preparing", "Charging", "Available"])
            #expect(history.map { $0["connector_id"] } == [1, 1, 2])
            #expect(history.map { $0["status_at"]?.date } == [TestTime.at(100), TestTime.at(110), TestTime.at(110)])
        }
    }
}
