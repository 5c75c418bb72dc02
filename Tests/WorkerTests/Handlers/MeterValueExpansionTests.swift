import Foundation
import OCPP
import PostgresNIO
import Shared
import Testing

@testable import Worker

/// ``MeterValueExpansion``: journal payloads read with the protocol core and expanded
/// into `meter_values` rows in Swift, without a database.
@Suite("MeterValues expansion")
struct MeterValueExpansionTests {
    static let station: Int64 = 7
    static let received = PostgresTimestamp(microsecondsSince2000: 800_000_000_000_000)

    static func journalRow(_ action: String, _ payload: String, id: Int64 = 1) -> MeterValueExpansion.JournalRow {
        MeterValueExpansion.JournalRow(
            id: id, stationID: station, receivedAt: received, action: action, payload: ByteBuffer(string: payload))
    }

    /// The rows of one MeterValues payload of `samples` (JSON objects) at 10:00:00.123Z.
    static func rows(
        samples: String, transaction: String = "", connectors: [MeterValueExpansion.TransactionKey: Int32] = [:]
    )
        throws -> [MeterValueRow]
    {
        let payload = """
            {"connectorId":2,\(transaction)"meterValue":[{"timestamp":"2024-05-01T10:00:00.123Z","sampledValue":[\(samples)]}]}
            """
        let message = try #require(try MeterValueExpansion.message(journalRow("MeterValues", payload)))
        return MeterValueExpansion.rows([message], connectors: connectors)
    }

    static func value(_ text: String, format: String? = nil) throws -> (value: Double?, raw: String?) {
        var sample: [(key: String, value: JSONValue)] = [("value", .string(text))]
        if let format { sample.append(("format", .string(format))) }
        var writer = JSONWriter()
        writer.value(.object(JSONObject(sample)))
        let row = try #require(try rows(samples: writer.string).first)
        return (row.value, row.rawValue)
    }

    @Test func omittedFieldsGetTheSpecDefaults() throws {
        let rows = try Self.rows(samples: #"{"value":"1234.5"}"#)
        #expect(
            rows == [
                MeterValueRow(
                    sampledAt: PostgresTimestamp(microsecondsSince2000: 767_872_800_123_000), stationID: Self.station,
                    connectorID: 2, transactionID: nil, measurand: "Energy.Active.Import.Register", phase: "",
                    location: "Outlet", unit: "Wh", context: "Sample.Periodic", format: "Raw", value: 1234.5,
                    rawValue: nil, receivedAt: Self.received)
            ])
    }

    @Test func givenFieldsAndValuesOutsideTheirListsAreStoredAsSent() throws {
        let rows = try Self.rows(
            samples: """
                {"value":"230.1","measurand":"Voltage","phase":"L1-N","location":"Inlet","unit":"V",\
                "context":"Sample.Clock","format":"Raw"},
                {"value":"7","measurand":"Vendor.Thing","unit":"kW.h","format":"Packed"}
                """)
        try #require(rows.count == 2)
        #expect(rows[0].measurand == "Voltage")
        #expect(rows[0].phase == "L1-N")
        #expect(rows[0].location == "Inlet")
        #expect(rows[0].unit == "V")
        #expect(rows[0].context == "Sample.Clock")
        #expect(rows[0].value == 230.1)
        #expect(rows[1].measurand == "Vendor.Thing")
        #expect(rows[1].unit == "kW.h")
        // Not Raw: kept as text, even though it reads as a number.
        #expect(rows[1].format == "Packed")
        #expect(rows[1].value == nil && rows[1].rawValue == "7")
    }

    @Test(
        arguments: [
            ("4711", 4711.0), (" -1.5e3 ", -1500), ("+5", 5), ("1.", 1), (".5", 0.5), ("-0", -0.0), ("1E+05", 1e5),
            ("2e-2", 0.02), ("\t12.25\n", 12.25), ("000123", 123),
            (String(repeating: "9", count: 30), 1e30 - 1),
            ("1." + String(repeating: "5", count: 30), 1.5555555555555556),
            (String(repeating: "9", count: 30) + "e99", 1e129),
        ] as [(String, Double)])
    func plainDecimalNumbersGoToValue(text: String, expected: Double) throws {
        let (value, raw) = try Self.value(text)
        #expect(value == expected)
        #expect(raw == nil)
        if expected == 0 { #expect(value?.sign == expected.sign) }
    }

    @Test(arguments: [
        "n/a", "", " ", ".", "+", "1e", "1e100", "1e+100", "1.2.3", "1,5", "1 2", "NaN", "nan", "inf", "-Infinity",
        "0x10", "1_000", "١٢", "1\u{00A0}", "e5", "--1", String(repeating: "9", count: 31),
        "0." + String(repeating: "1", count: 31), String(repeating: "1", count: 31) + ".5",
    ])
    func anythingElseStaysAsSent(text: String) throws {
        let (value, raw) = try Self.value(text)
        #expect(value == nil)
        #expect(raw == text)
    }

    @Test func signedDataStaysAsSentEvenWhenItLooksLikeANumber() throws {
        let (value, raw) = try Self.value("12345", format: "SignedData")
        #expect(value == nil)
        #expect(raw == "12345")
    }

    /// A signing meter's Raw and SignedData copies, Wh and kWh of one reading, and a
    /// plain duplicate: every sample is its own row, in order.
    @Test func samplesWithTheSameTimeAndMeasurandAreEachARow() throws {
        let rows = try Self.rows(
            samples: """
                {"value":"12345","unit":"Wh"},{"value":"12.345","unit":"kWh"},\
                {"value":"SIGNED","format":"SignedData"},{"value":"12345","unit":"Wh"}
                """)
        #expect(rows.map(\.unit) == ["Wh", "kWh", "Wh", "Wh"])
        #expect(rows.map(\.format) == ["Raw", "Raw", "SignedData", "Raw"])
        #expect(rows.map(\.value) == [12345, 12.345, nil, 12345])
        #expect(Set(rows.map(\.sampledAt)).count == 1)
    }

    @Test(
        arguments: [
            (#""transactionId":0,"#, nil), (#""transactionId":-1,"#, nil), ("", nil),
            (#""transactionId":42,"#, Int32(42)),
            (#""transactionId":2147483647,"#, Int32.max),
        ] as [(String, Int32?)])
    func meterValuesTransactionIdsOfZeroOrBelowAreNoTransaction(field: String, expected: Int32?) throws {
        let rows = try Self.rows(samples: #"{"value":"1"}"#, transaction: field)
        #expect(rows.map(\.transactionID) == [expected])
        #expect(rows.map(\.connectorID) == [2])
    }

    @Test func aStopsValuesTakeTheConnectorOfItsTransaction() throws {
        func stop(_ transaction: Int, id: Int64) throws -> MeterValueExpansion.Message {
            let payload = """
                {"meterStop":100,"timestamp":"2024-05-01T11:00:00Z","transactionId":\(transaction),\
                "transactionData":[{"timestamp":"2024-05-01T10:59:59.5+02:00","sampledValue":[{"value":"99"}]}]}
                """
            return try #require(try MeterValueExpansion.message(Self.journalRow("StopTransaction", payload, id: id)))
        }
        let messages = [try stop(5, id: 1), try stop(6, id: 2), try stop(0, id: 3)]
        let keys = MeterValueExpansion.stopTransactions(of: messages)
        #expect(
            keys == [
                .init(stationID: Self.station, transactionID: 5), .init(stationID: Self.station, transactionID: 6),
                .init(stationID: Self.station, transactionID: 0),
            ])
        let rows = MeterValueExpansion.rows(
            messages, connectors: [.init(stationID: Self.station, transactionID: 5): 3])
        // Unknown transactions: connector 0, the id kept as sent (as the SQL expansion did).
        #expect(rows.map(\.connectorID) == [3, 0, 0])
        #expect(rows.map(\.transactionID) == [5, 6, 0])
        // 10:59:59.5+02:00 is 08:59:59.5Z.
        let expected = PostgresTimestamp(try #require(RFC3339.parse("2024-05-01T08:59:59.500Z")))
        #expect(rows.allSatisfy { $0.sampledAt == expected })
    }

    @Test func aStopWithoutTransactionDataHasNoRowsAndNeedsNoLookup() throws {
        let payload = #"{"meterStop":100,"timestamp":"2024-05-01T11:00:00Z","transactionId":5}"#
        let message = try #require(try MeterValueExpansion.message(Self.journalRow("StopTransaction", payload)))
        #expect(MeterValueExpansion.stopTransactions(of: [message]).isEmpty)
        #expect(MeterValueExpansion.rows([message]).isEmpty)
    }

    @Test func otherActionsAreNotRead() throws {
        #expect(try MeterValueExpansion.message(Self.journalRow("Heartbeat", "{}")) == nil)
    }

    @Test func anUnreadablePayloadIsRefusedWithTheReason() throws {
        let payload =
            #"{"connectorId":99999999999,"meterValue":[{"timestamp":"2024-05-01T10:00:00Z","sampledValue":[{"value":"1"}]}]}"#
        #expect {
            try MeterValueExpansion.message(Self.journalRow("MeterValues", payload, id: 9))
        } throws: { error in
            let description = String(describing: error)
            return description.contains("work row 9") && description.contains("connectorId")
                && description.contains("out of range")
        }
        #expect(throws: UnreadableWorkRow.self) {
            try MeterValueExpansion.message(Self.journalRow("MeterValues", "{not json"))
        }
    }

    /// Whole microseconds, as PostgreSQL reads the text (a `Date` alone would be a
    /// binary fraction, and PostgresNIO truncates it).
    @Test func timesAreWholeMicrosecondsAndHoursFloor() throws {
        let date = try #require(RFC3339.parse("2024-05-01T10:00:00.123456Z"))
        let time = PostgresTimestamp(date)
        #expect(time.microsecondsSince2000 == 767_872_800_123_456)
        #expect(time.hour.microsecondsSince2000 == 767_872_800_000_000)
        let before2000 = PostgresTimestamp(try #require(RFC3339.parse("1999-12-31T23:30:00.001Z")))
        #expect(before2000.microsecondsSince2000 == -1_799_999_000)
        #expect(before2000.hour.microsecondsSince2000 == -3_600_000_000)
    }
}
