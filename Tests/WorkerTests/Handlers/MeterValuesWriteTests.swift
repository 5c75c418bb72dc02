import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// ``MeterValuesHandler`` writing the rows it expanded in Swift: a batch of
/// MeterValues and StopTransaction stores exactly its samples, once, and a batch
/// whose worker died before committing is applied once by the next.
@Suite("MeterValues write path")
struct MeterValuesWriteTests {
    /// Milliseconds past ``TestTime/origin``, as a date-time the gateway journals.
    static func time(_ milliseconds: Int) -> Date {
        TestTime.origin.addingTimeInterval(Double(milliseconds) / 1000)
    }

    /// A MeterValues work row of transaction `transaction` on connector 1, and a stop of
    /// the same transaction (allocated on connector 3) with `transactionData`.
    static func rows(transaction: Int32) -> [InboxFixture.Row] {
        let meterValues: JSONValue = [
            "connectorId": 1, "transactionId": .integer(Int64(transaction)),
            "meterValue": [
                [
                    "timestamp": .string(RFC3339.format(time(60_123))),
                    "sampledValue": [
                        ["value": "1000.5"],
                        ["value": "1.0005", "unit": "kWh"],
                        ["value": "SIGNED", "format": "SignedData"],
                    ],
                ],
                [
                    "timestamp": .string(RFC3339.format(time(3_660_007))),
                    "sampledValue": [["value": "n/a", "measurand": "Temperature", "unit": "Celsius"]],
                ],
            ],
        ]
        let stop: JSONValue = [
            "transactionId": .integer(Int64(transaction)), "meterStop": 2000,
            "timestamp": .string(RFC3339.format(time(7_200_000))),
            "transactionData": [
                [
                    "timestamp": .string(RFC3339.format(time(7_199_999))),
                    "sampledValue": [
                        ["value": "2000", "context": "Transaction.End"],
                        ["value": "80", "measurand": "SoC", "unit": "Percent", "location": "EV"],
                    ],
                ]
            ],
        ]
        return [
            .call(
                "MeterValues", json: meterValues, stationTime: time(3_660_007),
                receivedAt: time(3_661_001)),
            .call(
                "StopTransaction", json: stop, response: ["idTagInfo": ["status": "Accepted"]],
                stationTime: time(7_200_000), receivedAt: time(7_200_456)),
        ]
    }

    /// Every column of every row, times in UTC to the microsecond (sorted by the
    /// caller: the database's collation may order punctuation differently).
    static let snapshotSQL: PostgresQuery = """
        SELECT concat_ws('|', to_char(sampled_at AT TIME ZONE 'UTC', 'HH24:MI:SS.US'), connector_id,
                         coalesce(transaction_id::text, '-'), measurand, phase, location, unit, context, format,
                         coalesce(value::text, '-'), coalesce(raw_value, '-'),
                         to_char(received_at AT TIME ZONE 'UTC', 'HH24:MI:SS.US'))
        FROM ocpp.meter_values
        """

    static func expected(transaction: Int32) -> [String] {
        let t = String(transaction)
        return [
            "10:01:00.123000|1|\(t)|Energy.Active.Import.Register||Outlet|Wh|Sample.Periodic|Raw|1000.5|-|11:01:01.001000",
            "10:01:00.123000|1|\(t)|Energy.Active.Import.Register||Outlet|Wh|Sample.Periodic|SignedData|-|SIGNED|11:01:01.001000",
            "10:01:00.123000|1|\(t)|Energy.Active.Import.Register||Outlet|kWh|Sample.Periodic|Raw|1.0005|-|11:01:01.001000",
            "11:01:00.007000|1|\(t)|Temperature||Outlet|Celsius|Sample.Periodic|Raw|-|n/a|11:01:01.001000",
            "11:59:59.999000|3|\(t)|Energy.Active.Import.Register||Outlet|Wh|Transaction.End|Raw|2000|-|12:00:00.456000",
            "11:59:59.999000|3|\(t)|SoC||EV|Percent|Sample.Periodic|Raw|80|-|12:00:00.456000",
        ]
    }

    static let staleHoursSQL: PostgresQuery = """
        SELECT to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI') FROM ocpp.meter_values_stale_hours ORDER BY 1
        """

    @Test func aBatchOfMeterValuesAndAStopStoresExactlyItsSamplesOnce() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let transaction = try await fixture.allocateTransaction(
                station: station, connector: 3, idTag: "TAG-1", startedAt: TestTime.at(0), meterStart: 0)
            try await fixture.insert(Self.rows(transaction: transaction), station: station)
            #expect(try await fixture.drain() == 2)
            #expect(try await fixture.texts(Self.snapshotSQL).sorted() == Self.expected(transaction: transaction))
            #expect(try await fixture.texts(Self.staleHoursSQL) == ["10:00", "11:00"])

            #expect(try await fixture.drain() == 0)
            #expect(try await fixture.texts(Self.snapshotSQL).sorted() == Self.expected(transaction: transaction))
            #expect(try await fixture.count("SELECT 1 FROM ocpp.inbox_refusals") == 0)
        }
    }

    /// The worker dies after the batch's rows were written, before the commit:
    /// nothing of it stays, and the next worker applies the same journal rows once.
    @Test func aBatchWhoseWorkerDiedBeforeCommitIsAppliedOnceByTheNext() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let transaction = try await fixture.allocateTransaction(
                station: station, connector: 3, idTag: "TAG-1", startedAt: TestTime.at(0), meterStart: 0)
            let ids = try await fixture.insert(Self.rows(transaction: transaction), station: station)
            let batch = ClaimedBatch(
                ids: ids, earliest: Self.time(0), latest: Self.time(8_000_000),
                countsByAction: [.meterValues: 1, .stopTransaction: 1])

            await #expect(throws: (any Error).self) {
                try await fixture.client.withTransaction(logger: TestDatabase.logger) { connection in
                    try await MeterValuesHandler().apply(batch, on: connection, logger: TestDatabase.logger)
                    let written = try await connection.query(
                        "SELECT count(*) FROM ocpp.meter_values", logger: TestDatabase.logger
                    ).collect().first?.decode(Int64.self)
                    #expect(written == 6)
                    // The crash, before the commit: the transaction rolls back, as the server
                    // does when a killed worker's connection drops (CrashSafetyTests kills a
                    // real worker process).
                    throw SimulatedCrash()
                }
            }
            #expect(try await fixture.count("SELECT 1 FROM ocpp.meter_values") == 0)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.meter_values_stale_hours") == 0)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.inbox_pending") == 2)

            #expect(try await fixture.drain() == 2)
            #expect(try await fixture.drain() == 0)
            #expect(try await fixture.texts(Self.snapshotSQL).sorted() == Self.expected(transaction: transaction))
            #expect(try await fixture.texts(Self.staleHoursSQL) == ["10:00", "11:00"])
        }
    }
}

private struct SimulatedCrash: Error {}
