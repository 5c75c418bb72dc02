import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// ``InboxApplier``'s fallback: a row the database refuses is set aside with the
/// reason, and neither its batch nor the rows behind it are held up.
@Suite("Refused work rows")
struct RefusedRowTests {
    @Test func aRefusedRowIsSetAsideAndTheRestOfItsBatchApplies() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let sample: JSONValue = [
                ["timestamp": .string(RFC3339.format(TestTime.at(60))), "sampledValue": [["value": "10"]]]
            ]
            // connectorId fits the JSON schema (an integer) but not the int4 column.
            let ids = try await fixture.insert(
                [
                    .call("MeterValues", json: ["connectorId": 1, "meterValue": sample], receivedAt: TestTime.at(61)),
                    .call(
                        "MeterValues", json: ["connectorId": 99_999_999_999, "meterValue": sample],
                        receivedAt: TestTime.at(62)),
                    .call(
                        "StatusNotification", json: ["connectorId": 1, "status": "Available", "errorCode": "NoError"],
                        receivedAt: TestTime.at(63)),
                ], station: station)
            #expect(try await fixture.drain() == 3)

            try await expectEveryRowProcessed(ids, secondSetAsideWith: "out of range", fixture)

            #expect(try await fixture.count("SELECT 1 FROM ocpp.meter_values WHERE connector_id = 1") == 1)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.connectors WHERE status = 'Available'") == 1)
            // last seen comes from the rows that went in.
            let seen = try await fixture.row("SELECT last_seen_at FROM ocpp.stations WHERE id = \(station)")
            #expect(seen["last_seen_at"]?.date == TestTime.at(63))

            // The rows behind it are applied as usual.
            try await fixture.insert(
                [.call("Heartbeat", json: [:], receivedAt: TestTime.at(90))], station: station)
            #expect(try await fixture.drain() == 1)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.inbox_pending") == 0)
        }
    }

    /// The action text is read once, at the claim: one the protocol core does not
    /// know is set aside like an unreadable payload, and its batch applies.
    @Test func aRowOfAnUnknownActionIsSetAsideAndTheRestOfItsBatchApplies() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let ids = try await fixture.insert(
                [
                    .call("Heartbeat", json: [:], receivedAt: TestTime.at(61)),
                    .call("NotAnAction", json: [:], receivedAt: TestTime.at(62)),
                    .call(
                        "StatusNotification", json: ["connectorId": 1, "status": "Available", "errorCode": "NoError"],
                        receivedAt: TestTime.at(63)),
                ], station: station)
            #expect(try await fixture.drain() == 3)

            try await expectEveryRowProcessed(ids, secondSetAsideWith: "NotAnAction", fixture)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.connectors WHERE status = 'Available'") == 1)
            let seen = try await fixture.row("SELECT last_seen_at FROM ocpp.stations WHERE id = \(station)")
            #expect(seen["last_seen_at"]?.date == TestTime.at(63))
        }
    }

    /// A sampled value PostgreSQL's text cannot hold (a NUL character, which JSON
    /// can spell) fails the batch's meter values insert; its row is set aside with
    /// the database's reason and the other meter values of the batch are stored.
    @Test func aSampleTheDatabaseRefusesIsSetAsideAndTheRestIsStored() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let at = JSONValue.string(RFC3339.format(TestTime.at(60)))
            let ids = try await fixture.insert(
                [
                    .call(
                        "MeterValues",
                        json: [
                            "connectorId": 1, "meterValue": [["timestamp": at, "sampledValue": [["value": "10"]]]],
                        ],
                        receivedAt: TestTime.at(61)),
                    .call(
                        "MeterValues",
                        json: [
                            "connectorId": 2,
                            "meterValue": [
                                ["timestamp": at, "sampledValue": [["value": "a\u{0}b", "format": "SignedData"]]]
                            ],
                        ], receivedAt: TestTime.at(62)),
                    .call(
                        "MeterValues",
                        json: [
                            "connectorId": 3, "meterValue": [["timestamp": at, "sampledValue": [["value": "30"]]]],
                        ],
                        receivedAt: TestTime.at(63)),
                ], station: station)
            #expect(try await fixture.drain() == 3)

            try await expectEveryRowProcessed(ids, secondSetAsideWith: "0x00", fixture)
            let stored = try await fixture.rows(
                "SELECT connector_id, value FROM ocpp.meter_values ORDER BY connector_id")
            #expect(stored.map { $0["connector_id"] } == [.integer(1), .integer(3)])
        }
    }

    /// The journal holds `ids`, all processed; the second was set aside with a reason
    /// that mentions `reason`, the others were applied.
    private func expectEveryRowProcessed(
        _ ids: [Int64], secondSetAsideWith reason: String, _ fixture: InboxFixture,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let inbox = try await fixture.rows(
            """
            SELECT i.id, p.id IS NULL AS processed, r.error AS apply_error
            FROM ocpp.inbox AS i
            LEFT JOIN ocpp.inbox_pending AS p ON p.id = i.id
            LEFT JOIN ocpp.inbox_refusals AS r ON r.inbox_id = i.id
            ORDER BY i.id
            """)
        #expect(inbox.map { $0["id"] } == ids.map { .integer($0) }, sourceLocation: sourceLocation)
        #expect(inbox.map { $0["processed"] } == [true, true, true], sourceLocation: sourceLocation)
        #expect(
            inbox.map { $0["apply_error"]?.string?.contains(reason) } == [nil, true, nil],
            sourceLocation: sourceLocation)
    }
}
