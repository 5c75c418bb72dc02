import Foundation
import NIOPosix
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Simulator

/// `ocpp-sim resend` at small scale against a real gateway and worker: every
/// transaction message is sent, its connection dropped before the answer is read,
/// and sent again after reconnecting. Each must be stored once.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ResendEndToEndTests {
    static let stations = 4
    static let meterValues = 3

    private func scenario(_ system: CentralSystem, newIDOnResend: Bool = false) throws -> ResendScenario {
        ResendScenario(
            connector: try WebSocketConnector(endpoint: try StationEndpoint(url: system.endpoint)),
            identityPrefix: "RESEND-", stations: Self.stations, meterValues: Self.meterValues,
            dropDelay: 0...30, newIDOnResend: newIDOnResend)
    }

    @Test func aResendUnderTheSameIDIsStoredOnce() async throws {
        try await CentralSystem.run { system in
            let outcome = try await scenario(system).execute(group: MultiThreadedEventLoopGroup.singleton)
            #expect(outcome.journal.starts.count == Self.stations)
            #expect(outcome.journal.stops.count == Self.stations)
            #expect(outcome.journal.sampleCount == Self.stations * Self.meterValues * MeterSampler.valuesPerSample)
            #expect(Set(outcome.journal.starts.map(\.transactionId)).count == Self.stations)

            let passed = try await VerifyCommand.verify(
                outcome.journal, database: system.database, drainTimeout: .seconds(60))
            #expect(passed)
            // Beyond verify: exactly one journaled CALL per message, one transaction per
            // station, one row per acknowledged sampled value.
            let client = system.client
            #expect(
                try await client.scalar(
                    """
                    SELECT count(*) FROM ocpp.inbox WHERE kind = 'call'
                      AND action IN ('StartTransaction', 'MeterValues', 'StopTransaction')
                    """, as: Int.self) == Self.stations * (Self.meterValues + 2))
            #expect(try await client.scalar("SELECT count(*) FROM ocpp.transactions", as: Int.self) == Self.stations)
            #expect(
                try await client.scalar("SELECT count(*) FROM ocpp.meter_values", as: Int.self)
                    == outcome.journal.sampleCount)
        }
    }

    @Test func aResendUnderANewIDIsAppliedOnce() async throws {
        try await CentralSystem.run { system in
            let outcome = try await scenario(system, newIDOnResend: true)
                .execute(group: MultiThreadedEventLoopGroup.singleton)
            // The copies carry new ids, but transaction messages are recognised by content:
            // each copy gets the first answer and writes nothing.
            let passed = try await VerifyCommand.verify(
                outcome.journal, database: system.database, drainTimeout: .seconds(60))
            #expect(passed)
            #expect(
                try await system.client.scalar("SELECT count(*) FROM ocpp.transactions", as: Int.self)
                    == Self.stations)
            #expect(
                try await system.client.scalar("SELECT count(*) FROM ocpp.meter_values", as: Int.self)
                    == outcome.journal.sampleCount)
            // One journal row per message, whatever id each copy had.
            #expect(
                try await system.client.scalar(
                    """
                    SELECT count(*) FROM ocpp.inbox WHERE kind = 'call'
                      AND action IN ('StartTransaction', 'MeterValues', 'StopTransaction')
                    """, as: Int.self) == Self.stations * (Self.meterValues + 2))
        }
    }

    @Test func verifyFindsACallJournaledTwice() async throws {
        try await CentralSystem.run { system in
            let outcome = try await scenario(system).execute(group: MultiThreadedEventLoopGroup.singleton)
            let verifier = Verifier(client: system.client, logger: TestDatabase.logger)
            #expect(try await verifier.waitForDrainedInbox(timeout: .seconds(60)))
            #expect(try await verifier.verify(outcome.journal).passed)

            // What a gateway that lost the receipt would do: journal the resend again.
            try await system.client.query(
                """
                INSERT INTO ocpp.inbox (received_at, gateway_id, station_id, kind, action, message_id, payload_digest,
                                        payload, response)
                SELECT received_at, gateway_id, station_id, kind, action, message_id, payload_digest, payload, response
                FROM ocpp.inbox WHERE action = 'MeterValues' LIMIT 1
                """)
            #expect(try await verifier.waitForDrainedInbox(timeout: .seconds(60)))
            let report = try await verifier.verify(outcome.journal)
            #expect(!report.passed)
            #expect(report.differences.contains { $0.hasPrefix("CALL stored twice") && $0.contains("MeterValues") })
        }
    }
}
