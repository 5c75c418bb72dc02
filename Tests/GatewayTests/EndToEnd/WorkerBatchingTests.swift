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
            // Each move of a bucket's cursor, with the transaction that made it.
            for statement in [
                "CREATE TABLE public.cursor_moves (txid xid8 NOT NULL, cursor_id bigint NOT NULL)",
                """
                CREATE FUNCTION public.record_cursor_move() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO public.cursor_moves VALUES (pg_current_xact_id(), NEW.cursor_id);
                    RETURN NEW;
                END $$
                """,
                """
                CREATE TRIGGER record_cursor_move AFTER UPDATE ON ocpp.inbox_buckets
                    FOR EACH ROW EXECUTE FUNCTION public.record_cursor_move()
                """,
            ] {
                try await client.query(PostgresQuery(unsafeSQL: statement), logger: TestDatabase.logger)
            }
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
                /// The rows the worker has applied.
                func applied() async throws -> Int {
                    try await client.scalar(
                        "SELECT count(*) FROM ocpp.inbox WHERE id NOT IN (SELECT id FROM ocpp.inbox_pending)",
                        as: Int.self)
                }
                // A first row, applied, shows the loop past its start and waiting for a
                // notice (a fixed sleep here raced with a slow start on a busy machine).
                try await insertAnnounced()
                try await eventually("the worker applies the first row") {
                    try await applied() == 1
                }
                // Two gateway batches 100 ms apart, well inside the gathering delay.
                for _ in 0..<2 {
                    try await insertAnnounced()
                    try await Task.sleep(for: .milliseconds(100))
                }
                try await eventually("the worker applies both rows") {
                    try await applied() == 3
                }
                // One transaction moved the cursor over both.
                #expect(
                    try await client.scalar(
                        "SELECT count(DISTINCT txid) FROM public.cursor_moves", as: Int.self) == 2)
            } catch {
                try? await worker.stop()
                throw error
            }
            try await worker.stop()
        }
    }
}
