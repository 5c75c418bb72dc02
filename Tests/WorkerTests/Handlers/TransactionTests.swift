import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// ``TransactionHandler`` (with the stop's meter values and the events of unknown
/// stops): one `transactions` row merged from start and stop whichever comes first.
@Suite("StartTransaction and StopTransaction")
struct TransactionTests {
    /// A start as the gateway writes it: the id it allocated is in the response.
    static func start(
        _ transaction: Int32, connector: Int = 2, idTag: String = "TAG-1", meterStart: Int = 1000,
        at seconds: Int = 100,
        reservation: Int? = 7
    ) -> InboxFixture.Row {
        var payload: [(key: String, value: JSONValue)] = [
            ("connectorId", .integer(Int64(connector))), ("idTag", .string(idTag)),
            ("meterStart", .integer(Int64(meterStart))), ("timestamp", .string(RFC3339.format(TestTime.at(seconds)))),
        ]
        if let reservation { payload.append(("reservationId", .integer(Int64(reservation)))) }
        return .call(
            "StartTransaction", json: .object(JSONObject(payload)),
            response: ["idTagInfo": ["status": "Accepted"], "transactionId": .integer(Int64(transaction))],
            stationTime: TestTime.at(seconds), receivedAt: TestTime.at(seconds + 1))
    }

    static func stop(
        _ transaction: Int32, meterStop: Int = 5000, at seconds: Int = 900, reason: String? = "EVDisconnected",
        idTag: String? = "TAG-1", transactionData: JSONValue? = nil
    ) -> InboxFixture.Row {
        var payload: [(key: String, value: JSONValue)] = [
            ("transactionId", .integer(Int64(transaction))), ("meterStop", .integer(Int64(meterStop))),
            ("timestamp", .string(RFC3339.format(TestTime.at(seconds)))),
        ]
        if let reason { payload.append(("reason", .string(reason))) }
        if let idTag { payload.append(("idTag", .string(idTag))) }
        if let transactionData { payload.append(("transactionData", transactionData)) }
        return .call(
            "StopTransaction", json: .object(JSONObject(payload)), response: ["idTagInfo": ["status": "Accepted"]],
            stationTime: TestTime.at(seconds), receivedAt: TestTime.at(seconds + 1))
    }

    /// Allocates the id of ``start(_:connector:idTag:meterStart:at:reservation:)``'s defaults.
    static func allocate(_ station: Int64, in fixture: InboxFixture, connector: Int = 2) async throws -> Int32 {
        try await fixture.allocateTransaction(
            station: station, connector: connector, idTag: "TAG-1", startedAt: TestTime.at(100), meterStart: 1000)
    }

    static func transaction(_ id: Int32, in fixture: InboxFixture) async throws -> JSONValue {
        try await fixture.row("SELECT * FROM ocpp.transactions WHERE id = \(id)")
    }

    enum Arrival: String, CaseIterable, Sendable {
        case startThenStop, stopThenStart, oneBatchStartFirst, oneBatchStopFirst
    }

    @Test(arguments: Arrival.allCases)
    func startAndStopMergeIntoOneRowWhicheverComesFirst(arrival: Arrival) async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let id = try await Self.allocate(station, in: fixture)
            let start = Self.start(id)
            let stop = Self.stop(id)
            switch arrival {
            case .startThenStop, .stopThenStart:
                let (first, second) = arrival == .startThenStop ? (start, stop) : (stop, start)
                try await fixture.insert([first], station: station)
                try await fixture.drain()
                if arrival == .stopThenStart {
                    // The stop alone already makes a complete row, from the start's content key.
                    let early = try await Self.transaction(id, in: fixture)
                    #expect(early["id_tag"] == "TAG-1")
                    #expect(early["started_at"]?.date == TestTime.at(100))
                    #expect(early["status"] == "Completed")
                    #expect(early["reservation_id"] == .null)
                }
                try await fixture.insert([second], station: station)
                try await fixture.drain()
            case .oneBatchStartFirst:
                try await fixture.insert([start, stop], station: station)
                try await fixture.drain()
            case .oneBatchStopFirst:
                try await fixture.insert([stop, start], station: station)
                try await fixture.drain()
            }

            let row = try await Self.transaction(id, in: fixture)
            #expect(row["station_id"] == .integer(station))
            #expect(row["connector_id"] == 2)
            #expect(row["id_tag"] == "TAG-1")
            #expect(row["reservation_id"] == 7)
            #expect(row["meter_start"] == 1000)
            #expect(row["started_at"]?.date == TestTime.at(100))
            #expect(row["meter_stop"] == 5000)
            #expect(row["stopped_at"]?.date == TestTime.at(900))
            #expect(row["stop_id_tag"] == "TAG-1")
            #expect(row["stop_reason"] == "EVDisconnected")
            #expect(row["status"] == "Completed")
            #expect(try await fixture.count("SELECT 1 FROM ocpp.transactions") == 1)
        }
    }

    @Test func aStartAloneIsAnActiveTransaction() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let id = try await Self.allocate(station, in: fixture)
            try await fixture.insert([Self.start(id, reservation: nil)], station: station)
            try await fixture.drain()

            let row = try await Self.transaction(id, in: fixture)
            #expect(row["status"] == "Active")
            #expect(row["reservation_id"] == .null)
            #expect(row["stopped_at"] == .null)
        }
    }

    /// OCPP 1.6: an absent reason means Local; an absent idTag stays absent.
    @Test func aStopWithoutReasonIsLocal() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let id = try await Self.allocate(station, in: fixture)
            try await fixture.insert([Self.start(id), Self.stop(id, reason: nil, idTag: nil)], station: station)
            try await fixture.drain()

            let row = try await Self.transaction(id, in: fixture)
            #expect(row["stop_reason"] == "Local")
            #expect(row["stop_id_tag"] == .null)
        }
    }

    /// A stop names no connector: its `transactionData` takes the transaction's.
    @Test func transactionDataIsStoredAsMeterValuesOnTheTransactionsConnector() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let id = try await Self.allocate(station, in: fixture, connector: 3)
            let data: JSONValue = [
                [
                    "timestamp": .string(RFC3339.format(TestTime.at(900))),
                    "sampledValue": [
                        ["value": "5000", "context": "Transaction.End"],
                        ["value": "21.5", "context": "Transaction.End", "measurand": "SoC", "unit": "Percent"],
                    ],
                ]
            ]
            // Stop first: the connector comes from the start's key, not from the start's row.
            try await fixture.insert([Self.stop(id, transactionData: data)], station: station)
            try await fixture.drain()

            let values = try await fixture.rows(
                """
                SELECT connector_id, transaction_id, measurand, context, unit, value, sampled_at
                FROM ocpp.meter_values WHERE station_id = \(station) ORDER BY measurand
                """)
            #expect(values.count == 2)
            #expect(values.map { $0["connector_id"] } == [3, 3])
            #expect(values.map { $0["transaction_id"] } == [.integer(Int64(id)), .integer(Int64(id))])
            #expect(values.map { $0["measurand"] } == ["Energy.Active.Import.Register", "SoC"])
            #expect(values.map { $0["context"] } == ["Transaction.End", "Transaction.End"])
            #expect(values.map { $0["value"]?.number } == [5000, 21.5])
            #expect(values.map { $0["sampled_at"]?.date } == [TestTime.at(900), TestTime.at(900)])
        }
    }

    /// Chargers send stops for transactions this system never started (a replaced
    /// backend, a wiped database): the answer was normal, the stop is kept for
    /// operators, and no other station's transaction is touched.
    @Test func aStopForATransactionNotAllocatedForTheStationIsOnlyAnEvent() async throws {
        try await InboxFixture.withFixture { fixture in
            let owner = try await fixture.station("CP-OWNER")
            let other = try await fixture.station("CP-OTHER")
            let owned = try await Self.allocate(owner, in: fixture)
            try await fixture.insert([Self.stop(owned), Self.stop(424_242, at: 950)], station: other)
            try await fixture.drain()

            #expect(try await fixture.count("SELECT 1 FROM ocpp.transactions") == 0)
            let events = try await fixture.rows(
                """
                SELECT action, payload, response, station_time FROM ocpp.station_events
                WHERE station_id = \(other) ORDER BY station_time
                """)
            #expect(events.map { $0["action"] } == ["StopTransaction", "StopTransaction"])
            #expect(events.map { $0["payload"]?["transactionId"] } == [.integer(Int64(owned)), 424_242])
            #expect(events.map { $0["station_time"]?.date } == [TestTime.at(900), TestTime.at(950)])
            #expect(events.first?["response"] == ["idTagInfo": ["status": "Accepted"]])

            // The owner's transaction, started later, is still open.
            try await fixture.insert([Self.start(owned)], station: owner)
            try await fixture.drain()
            #expect(try await Self.transaction(owned, in: fixture)["status"] == "Active")
            #expect(try await fixture.count("SELECT 1 FROM ocpp.station_events WHERE station_id = \(owner)") == 0)
        }
    }

    /// A retried start or stop that reached the journal twice (the gateway's content
    /// receipt keeps them out, but receipts are pruned after days): the worker
    /// applies it as a no-op. Its `transactionData` samples are a second copy then;
    /// only the receipt keeps those out.
    @Test func aRetriedStartOrStopWithANewMessageIDChangesNothing() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let id = try await Self.allocate(station, in: fixture)
            let data: JSONValue = [
                ["timestamp": .string(RFC3339.format(TestTime.at(900))), "sampledValue": [["value": "5000"]]]
            ]
            let start = Self.start(id)
            let stop = Self.stop(id, transactionData: data)
            try await fixture.insert([start, stop], station: station)
            try await fixture.drain()
            let before = try await fixture.texts("SELECT to_jsonb(t)::text FROM ocpp.transactions AS t")

            try await fixture.insert([stop.retried(after: 30), start.retried(after: 60)], station: station)
            try await fixture.drain()

            // updated_at included: not even rewritten with the same values.
            #expect(try await fixture.texts("SELECT to_jsonb(t)::text FROM ocpp.transactions AS t") == before)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.station_events") == 0)
        }
    }

    /// Two stations' stops naming the same transaction id in one batch: the owner's
    /// stop must be applied even when the stranger's stop is later.
    @Test func anotherStationsStopOfTheSameIDInTheBatchDoesNotHideTheStop() async throws {
        try await InboxFixture.withFixture { fixture in
            let owner = try await fixture.station("CP-OWNER")
            let stranger = try await fixture.station("CP-STRANGER")
            let id = try await Self.allocate(owner, in: fixture)
            try await fixture.insert([Self.start(id), Self.stop(id, at: 900)], station: owner)
            try await fixture.insert([Self.stop(id, meterStop: 9, at: 990)], station: stranger)
            try await fixture.drain()

            let row = try await Self.transaction(id, in: fixture)
            #expect(row["station_id"] == .integer(owner))
            #expect(row["status"] == "Completed")
            #expect(row["stopped_at"]?.date == TestTime.at(900))
            #expect(row["meter_stop"] == 5000)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.station_events WHERE station_id = \(stranger)") == 1)
        }
    }
}
