import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// ``StationEventHandler``: the messages with no table of their own are kept in
/// `station_events` as sent, with the answer given, once per work row.
@Suite("Station events")
struct StationEventTests {
    struct Example: Sendable, CustomTestStringConvertible {
        var action: String
        var payload: JSONValue
        var response: JSONValue = [:]
        /// The message's own timestamp, where its schema has one.
        var stationTime: Date?

        var testDescription: String { action }
    }

    static let examples: [Example] = [
        Example(
            action: "DataTransfer", payload: ["vendorId": "com.acme", "messageId": "cable", "data": "{\"amps\":32}"],
            response: ["status": "Accepted", "data": "ok"]),
        Example(action: "DiagnosticsStatusNotification", payload: ["status": "Uploaded"]),
        Example(action: "FirmwareStatusNotification", payload: ["status": "Installed"]),
        Example(action: "LogStatusNotification", payload: ["status": "Uploaded", "requestId": 12]),
        Example(
            action: "SecurityEventNotification",
            payload: [
                "type": "InvalidFirmwareSignature", "timestamp": .string(RFC3339.format(TestTime.at(30))),
                "techInfo": "cert expired",
            ],
            stationTime: TestTime.at(30)),
        Example(action: "SignedFirmwareStatusNotification", payload: ["status": "SignatureVerified", "requestId": 4]),
        Example(
            action: "SignCertificate",
            payload: ["csr": "-----BEGIN CERTIFICATE REQUEST-----\nMIIBIjANBgkq\n-----END CERTIFICATE REQUEST-----"],
            response: ["status": "Accepted"]),
    ]

    @Test(arguments: examples)
    func theMessageIsKeptOnceAsSent(example: Example) async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            let ids = try await fixture.insert(
                [
                    .call(
                        example.action, json: example.payload, response: example.response,
                        stationTime: example.stationTime, receivedAt: TestTime.at(40))
                ], station: station)
            try await fixture.drain()
            // The batch applied a second time (a worker died after applying, before its commit was seen).
            try await fixture.reprocess(ids)
            try await fixture.drain()

            let event = try await fixture.row(
                """
                SELECT station_id, inbox_id, action, payload, response, station_time, received_at
                FROM ocpp.station_events
                """)
            #expect(event["station_id"] == .integer(station))
            #expect(event["inbox_id"] == .integer(ids[0]))
            #expect(event["action"] == .string(example.action))
            #expect(event["payload"] == example.payload)
            #expect(event["response"] == example.response)
            #expect(event["station_time"]?.date == example.stationTime)
            #expect(event["received_at"]?.date == TestTime.at(40))
        }
    }
}
