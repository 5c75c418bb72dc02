import Foundation
import PostgresNIO
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A worker process killed with `kill -9` in the middle of a batch: its transaction
/// dies with its connection, so the batch's rows stay unprocessed and none of its
/// effects stay behind; a restarted worker applies them. Nothing is lost and nothing
/// is applied twice.
@Suite("Worker killed mid-batch")
struct CrashSafetyTests {
    static let batchSize = 2000

    @Test("kill -9 mid-batch, then a restart: every row applied once, nothing lost")
    func killedMidBatchThenRestarted() async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            // Several values per row, so that a batch takes long enough to be caught in flight.
            let bulk = BulkMeterValues(rows: 100_000, stations: 8, sampledValuesPerRow: 4)
            try await bulk.insert(using: client)
            let databaseURL = try WorkerProcess.databaseURL(for: configuration)

            let first = try WorkerProcess(databaseURL: databaseURL, batchSize: Self.batchSize, name: "crash-first")
            defer { first.stop() }
            try await Self.waitUntilMidBatch(client, worker: first, rows: bulk.rows)
            await first.kill9()
            #expect(first.terminatingSignal == SIGKILL)

            // The server ends the dead worker's session (and rolls its batch back) when it
            // next talks to the closed socket; count only after that.
            try await Self.waitUntil("the killed worker's transaction is gone", client: client) {
                try await Self.openWriters(client) == 0
            }
            let afterKill = try await DrainProgress.read(using: client)
            #expect(afterKill.processed > 0 && afterKill.unprocessed > 0, "killed before the end: \(afterKill)")
            #expect(afterKill.processed % Self.batchSize == 0, "only whole batches were committed: \(afterKill)")
            #expect(
                afterKill.meterValues == afterKill.processed * bulk.sampledValuesPerRow,
                "no value of the killed batch stayed behind: \(afterKill)")
            #expect(afterKill.refused == 0)

            let second = try WorkerProcess(databaseURL: databaseURL, batchSize: Self.batchSize, name: "crash-second")
            defer { second.stop() }
            try await Self.waitUntil("the restarted worker drains the inbox", client: client, worker: second) {
                try await DrainProgress.read(using: client).unprocessed == 0
            }
            let final = try await DrainProgress.read(using: client)
            #expect(
                final
                    == DrainProgress(
                        processed: bulk.rows, unprocessed: 0, refused: 0, meterValues: bulk.expectedMeterValues))
        }
    }

    /// Waits until the worker has committed some batches and has one open: a
    /// transaction of another session that holds a transaction id (claiming with
    /// `FOR UPDATE` takes one). Fails if the worker ends or finishes first.
    private static func waitUntilMidBatch(_ client: PostgresClient, worker: WorkerProcess, rows: Int) async throws {
        try await waitUntil("the worker commits a batch and opens the next", client: client, worker: worker) {
            let progress = try await DrainProgress.read(using: client)
            guard progress.processed < rows else {
                throw WorkerProcessError(message: "the worker drained all \(rows) rows before it could be killed")
            }
            guard progress.processed >= batchSize else { return false }
            return try await openWriters(client) > 0
        }
    }

    /// Sessions on the test database, other than this one, inside a transaction that
    /// has written or locked rows.
    private static func openWriters(_ client: PostgresClient) async throws -> Int {
        try await client.scalar(
            """
            SELECT count(*)::bigint FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL
            """, as: Int.self)
    }

    /// Polls `condition` every 20 ms for up to `timeout`; fails with the worker's log
    /// if the worker process ends meanwhile.
    private static func waitUntil(
        _ what: String, client: PostgresClient, worker: WorkerProcess? = nil, timeout: Duration = .seconds(300),
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            if let worker, !worker.isRunning {
                throw WorkerProcessError(message: "worker exited while waiting until \(what):\n\(worker.logTail())")
            }
            guard ContinuousClock.now < deadline else {
                throw WorkerProcessError(
                    message: "timed out waiting until \(what)\n\(worker.map { $0.logTail() } ?? "")")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
