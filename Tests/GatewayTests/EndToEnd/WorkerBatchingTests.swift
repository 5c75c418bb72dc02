import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import Worker

/// A drain loop woken by a NOTIFY lets rows gather for `OCPP_WORKER_BATCH_DELAY_MS`
/// before it claims: rows of several gateway batches are applied in one.
@Suite("Worker batching", .serialized, .timeLimit(.minutes(1)))
struct WorkerBatchingTests {
    @Test func rowsArrivingWhileALoopGathersAreAppliedInOneBatch() async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let stationID = try await client.scalar(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-BATCH', 'Accepted') RETURNING id",
                as: Int64.self)
            let worker = try await WorkerHarness.start(database: configuration) {
                $0.concurrency = 1
                $0.batchDelay = .seconds(1)
            }
            do {
                /// One gateway batch of one Heartbeat row, announced as gateways do.
                func insertAnnounced() async throws {
                    try await client.query(
                        """
                        WITH row AS (
                            INSERT INTO ocpp.inbox (gateway_id, station_id, kind, action, message_id, payload, response)
                            VALUES ('test-gateway', \(stationID), 'call', 'Heartbeat', \(UUID().uuidString), '{}', '{}')
                            RETURNING id
                        )
                        SELECT pg_notify('ocpp_inbox', 'test-gateway') FROM row
                        """, logger: TestDatabase.logger)
                }
                // A first row, applied, shows the loop past its start and waiting for a
                // notice (a fixed sleep here raced with a slow start on a busy machine).
                try await insertAnnounced()
                try await eventually("the worker applies the first row") {
                    try await client.scalar(
                        "SELECT count(*) FROM ocpp.inbox WHERE processed_at IS NOT NULL", as: Int.self) == 1
                }
                // Two gateway batches 100 ms apart, well inside the gathering delay.
                for _ in 0..<2 {
                    try await insertAnnounced()
                    try await Task.sleep(for: .milliseconds(100))
                }
                try await eventually("the worker applies both rows") {
                    try await client.scalar(
                        "SELECT count(*) FROM ocpp.inbox WHERE processed_at IS NOT NULL", as: Int.self) == 3
                }
                // One transaction marked both: processed_at is its start time.
                #expect(
                    try await client.scalar(
                        "SELECT count(DISTINCT processed_at) FROM ocpp.inbox", as: Int.self) == 2)
            } catch {
                try? await worker.stop()
                throw error
            }
            try await worker.stop()
        }
    }
}
