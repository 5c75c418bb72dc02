import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// ``MeterValuesHandler``: one row per sampled value with the spec's defaults stored,
/// numbers parsed, replays inserting nothing, and the hourly rollup fed.
@Suite("MeterValues")
struct MeterValuesTests {
    static func meterValues(
        connector: Int = 1, transaction: Int32? = nil, readings: [(seconds: Int, samples: [JSONValue])],
        receivedAt: Int
    ) -> InboxFixture.Row {
        var payload: [(key: String, value: JSONValue)] = [("connectorId", .integer(Int64(connector)))]
        if let transaction { payload.append(("transactionId", .integer(Int64(transaction)))) }
        let values: [JSONValue] = readings.map { reading in
            [
                "timestamp": .string(RFC3339.format(TestTime.at(reading.seconds))),
                "sampledValue": .array(reading.samples),
            ]
        }
        payload.append(("meterValue", .array(values)))
        return .call(
            "MeterValues", json: .object(JSONObject(payload)),
            stationTime: readings.map { TestTime.at($0.seconds) }.max(), receivedAt: TestTime.at(receivedAt))
    }

    static let columns = """
        connector_id, transaction_id, measurand, phase, location, unit, context, format, value, raw_value, sampled_at
        """

    @Test func everySampledValueIsARowWithTheSpecDefaultsStored() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let row = Self.meterValues(
                connector: 2, transaction: 17,
                readings: [
                    (
                        60,
                        [
                            ["value": "1234.5"],
                            [
                                "value": "230.1", "measurand": "Voltage", "phase": "L1", "unit": "V",
                                "location": "Inlet", "context": "Sample.Clock",
                            ],
                        ]
                    ),
                    (120, [["value": "1300"]]),
                ], receivedAt: 121)
            try await fixture.insert([row], station: station)
            try await fixture.drain()

            let values = try await fixture.rows(
                """
                SELECT \(unescaped: Self.columns) FROM ocpp.meter_values WHERE station_id = \(station)
                ORDER BY sampled_at, measurand
                """)
            try #require(values.count == 3)
            let energy = values[0]
            #expect(energy["connector_id"] == 2)
            #expect(energy["transaction_id"] == 17)
            #expect(energy["measurand"] == "Energy.Active.Import.Register")
            #expect(energy["location"] == "Outlet")
            #expect(energy["unit"] == "Wh")
            #expect(energy["context"] == "Sample.Periodic")
            #expect(energy["format"] == "Raw")
            #expect(energy["phase"] == "")
            #expect(energy["value"]?.number == 1234.5)
            #expect(energy["raw_value"] == .null)
            #expect(energy["sampled_at"]?.date == TestTime.at(60))
            let voltage = values[1]
            #expect(voltage["measurand"] == "Voltage")
            #expect(voltage["phase"] == "L1")
            #expect(voltage["location"] == "Inlet")
            #expect(voltage["unit"] == "V")
            #expect(voltage["context"] == "Sample.Clock")
            #expect(voltage["value"]?.number == 230.1)
            #expect(values[2]["sampled_at"]?.date == TestTime.at(120))
            #expect(values[2]["value"]?.number == 1300)
        }
    }

    /// `value` is only for numbers; text and signed readings are kept as sent, and a
    /// signing meter's Raw and SignedData copies of one sample are two rows.
    @Test func rawNumbersAreParsedAndEverythingElseIsKeptAsSent() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let signed = "AP;0;3;ALCV3ABBBISHMA2RYEGAZE3HV5YQBQRQAEHAR2MA;BIHEIWSHAAA6Y"
            let row = Self.meterValues(
                readings: [
                    (
                        60,
                        [
                            ["value": " -1.5e3 ", "measurand": "Power.Active.Import", "unit": "W"],
                            ["value": "n/a", "measurand": "Temperature", "unit": "Celsius"],
                            ["value": "4711"],
                            ["value": .string(signed), "format": "SignedData"],
                        ]
                    )
                ], receivedAt: 61)
            try await fixture.insert([row], station: station)
            try await fixture.drain()

            let values = try await fixture.rows(
                """
                SELECT measurand || '/' || format AS key, value, raw_value FROM ocpp.meter_values
                WHERE station_id = \(station)
                """)
            #expect(values.count == 4)
            let byKey = Dictionary(uniqueKeysWithValues: values.map { ($0["key"]?.string ?? "", $0) })
            let power = try #require(byKey["Power.Active.Import/Raw"])
            #expect(power["value"]?.number == -1500)
            #expect(power["raw_value"] == .null)
            let text = try #require(byKey["Temperature/Raw"])
            #expect(text["value"] == .null)
            #expect(text["raw_value"] == "n/a")
            let raw = try #require(byKey["Energy.Active.Import.Register/Raw"])
            #expect(raw["value"]?.number == 4711)
            #expect(raw["raw_value"] == .null)
            let signedRow = try #require(byKey["Energy.Active.Import.Register/SignedData"])
            #expect(signedRow["value"] == .null)
            #expect(signedRow["raw_value"] == .string(signed))
        }
    }

    /// The exact case: one reading as Wh, as kWh and signed, at the same time
    /// and measurand, with the same value twice more under another transaction id.
    /// Every sample is a row: none is dropped as a "replay" of another.
    @Test func samplesThatDifferInAnyFieldAreEachARow() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let reading: [JSONValue] = [
                ["value": "12345", "unit": "Wh"],
                ["value": "12.345", "unit": "kWh"],
                ["value": "SIGNED-12345", "format": "SignedData"],
            ]
            try await fixture.insert(
                [
                    Self.meterValues(transaction: 3, readings: [(60, reading)], receivedAt: 61),
                    Self.meterValues(transaction: 4, readings: [(60, [["value": "12345"]])], receivedAt: 62),
                    Self.meterValues(readings: [(60, [["value": "12345"]])], receivedAt: 63),
                ], station: station)
            try await fixture.drain()
            let rows = try await fixture.texts(
                """
                SELECT unit || '/' || format || '/' || coalesce(transaction_id::text, '-') FROM ocpp.meter_values
                ORDER BY 1
                """)
            #expect(rows == ["Wh/Raw/-", "Wh/Raw/3", "Wh/Raw/4", "Wh/SignedData/3", "kWh/Raw/3"])
        }
    }

    /// A journal row is applied once: draining again finds nothing to do.
    @Test func aJournalRowIsAppliedOnce() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let row = Self.meterValues(
                transaction: 3,
                readings: [(60, [["value": "10"], ["value": "7", "measurand": "Current.Import", "phase": "L2"]])],
                receivedAt: 61)
            try await fixture.insert([row], station: station)
            try await fixture.drain()
            try await fixture.drain()
            #expect(try await fixture.count("SELECT 1 FROM ocpp.meter_values") == 2)
        }
    }

    /// Chargers that send `transactionId: 0` outside a transaction: stored as none.
    /// An id this system never allocated is kept as sent.
    @Test func transactionIdZeroIsNoTransactionAndAnUnknownOneIsKept() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            try await fixture.insert(
                [
                    Self.meterValues(transaction: 0, readings: [(60, [["value": "1"]])], receivedAt: 61),
                    Self.meterValues(transaction: 999_999, readings: [(70, [["value": "2"]])], receivedAt: 71),
                ], station: station)
            try await fixture.drain()
            let rows = try await fixture.texts(
                "SELECT coalesce(transaction_id::text, 'none') FROM ocpp.meter_values ORDER BY sampled_at")
            #expect(rows == ["none", "999999"])
            #expect(try await fixture.count("SELECT 1 FROM ocpp.inbox_refusals") == 0)
        }
    }

    @Test func theHourlyRollupIsComputedFromTheStaleHours() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            // 10:10, 10:20 and 10:40 of one hour, received in two messages out of order.
            let power: JSONValue = ["value": "7000", "measurand": "Power.Active.Import", "unit": "W"]
            try await fixture.insert(
                [
                    Self.meterValues(readings: [(2400, [["value": "2500"], power])], receivedAt: 2401),
                    Self.meterValues(
                        readings: [(600, [["value": "1000"], power]), (1200, [["value": "1500"]])], receivedAt: 2402),
                ], station: station)
            try await fixture.drain()

            let hour = TestTime.origin
            #expect(try await fixture.count("SELECT 1 FROM ocpp.meter_values_stale_hours") == 1)
            #expect(
                try await fixture.count("SELECT 1 FROM ocpp.meter_values_stale_hours WHERE bucket = \(hour)") == 1)

            #expect(try await fixture.client.scalar("SELECT ocpp.refresh_stale_hours(now())", as: Int32.self) == 1)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.meter_values_stale_hours") == 0)
            let rollups = try await fixture.rows(
                """
                SELECT bucket, connector_id, measurand, phase, min_value, max_value, avg_value, last_value,
                       energy_delta, sample_count
                FROM ocpp.meter_values_hourly WHERE station_id = \(station) ORDER BY measurand
                """)
            try #require(rollups.count == 2)
            let energy = rollups[0]
            #expect(energy["measurand"] == "Energy.Active.Import.Register")
            #expect(energy["bucket"]?.date == hour)
            #expect(energy["connector_id"] == 1)
            #expect(energy["phase"] == "")
            #expect(energy["min_value"]?.number == 1000)
            #expect(energy["max_value"]?.number == 2500)
            #expect(abs((energy["avg_value"]?.number ?? 0) - 5000.0 / 3) < 1e-9)
            #expect(energy["last_value"]?.number == 2500)
            #expect(energy["energy_delta"]?.number == 1500)
            #expect(energy["sample_count"] == 3)
            let powerRollup = rollups[1]
            #expect(powerRollup["measurand"] == "Power.Active.Import")
            #expect(powerRollup["sample_count"] == 2)
            #expect(powerRollup["last_value"]?.number == 7000)
            // Not a register: a difference of power readings means nothing.
            #expect(powerRollup["energy_delta"] == .null)
        }
    }
}
