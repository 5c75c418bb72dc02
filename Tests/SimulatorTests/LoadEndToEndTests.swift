import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Simulator

/// `ocpp-sim load` at small scale against a real gateway and worker, and `verify`:
/// it passes when everything acknowledged is stored and fails when a row is missing.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct LoadEndToEndTests {
    private func smallRun(_ system: CentralSystem) async throws -> LoadRun.Outcome {
        let settings = StationFleetSettings(
            connectors: [try WebSocketConnector(endpoint: try StationEndpoint(url: system.endpoint))],
            identityPrefix: "LOAD-", password: nil, sourceAddresses: try SourceAddresses(parsing: "127.0.0.1-127.0.0.2")
        )
        let run = LoadRun(stations: 20, settings: settings, rampRate: 200, rate: 200, duration: .seconds(3))
        return try await run.execute()
    }

    @Test func aSmallLoadRunIsAcknowledgedAndVerified() async throws {
        try await CentralSystem.run { system in
            let outcome = try await smallRun(system)
            let statistics = outcome.report.statistics
            #expect(statistics.offered == 600)
            #expect(statistics.acknowledged == statistics.offered)
            #expect(statistics.callErrors.isEmpty)
            #expect(statistics.latency.count == UInt64(statistics.offered))
            #expect(!outcome.journal.starts.isEmpty)
            #expect(outcome.journal.sampleCount > 0)

            let passed = try await VerifyCommand.verify(
                outcome.journal, database: system.database, drainTimeout: .seconds(60))
            #expect(passed)
        }
    }

    @Test func verifyFindsADeletedMeterValue() async throws {
        try await CentralSystem.run { system in
            let outcome = try await smallRun(system)
            let verifier = Verifier(client: system.client, logger: TestDatabase.logger)
            #expect(try await verifier.waitForDrainedInbox(timeout: .seconds(60)))
            #expect(try await verifier.verify(outcome.journal).passed)

            let victim = try #require(outcome.journal.samples.keys.first)
            try await system.client.query(
                """
                DELETE FROM ocpp.meter_values AS m USING (
                    SELECT v.station_id, v.sampled_at, v.measurand, v.phase
                    FROM ocpp.meter_values AS v JOIN ocpp.stations AS s ON s.id = v.station_id
                    WHERE s.identity = \(victim.identity) AND v.transaction_id = \(victim.transactionId) LIMIT 1
                ) AS one
                WHERE m.station_id = one.station_id AND m.sampled_at = one.sampled_at
                  AND m.measurand = one.measurand AND m.phase = one.phase
                """)
            let report = try await verifier.verify(outcome.journal)
            #expect(!report.passed)
            #expect(report.differences.contains { $0.contains("1 of") && $0.contains(victim.identity) })
            let passed = try await VerifyCommand.verify(
                outcome.journal, database: system.database, drainTimeout: .seconds(10))
            #expect(!passed)
        }
    }
}
