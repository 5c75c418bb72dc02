import Logging
import PostgresNIO
import Shared

/// A periodic job of the worker: SQL run every `interval`. Jobs that several workers
/// must not run at once (partition DDL, the rollup) hold an advisory lock; a worker
/// that does not get it skips the round, since another one is doing it.
struct MaintenanceJob: Sendable {
    var name: String
    var interval: Duration
    /// Run under an advisory lock (one worker at a time).
    var exclusive: Bool
    /// Whether `run` gets its connection inside a transaction, the lock being a
    /// transaction-level one (most jobs), or in autocommit, each statement committing
    /// by itself, for a statement that refuses a transaction block (`CALL
    /// refresh_continuous_aggregate`); there the lock is a session-level one, released
    /// when the run ends.
    var inTransaction = true
    var run: @Sendable (PostgresConnection, Logger) async throws -> Void

    /// The lock key: "ocppjob" and a small number per job name.
    var lockKey: Int64 {
        Int64(0x6F63_7070_6A6F_0000) | Int64(name.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF })
    }

    func runOnce(client: PostgresClient, logger: Logger) async throws {
        if inTransaction {
            try await client.withTransaction(leaseTimeout: DatabaseAttempt.defaultTimeout, logger: logger) {
                connection in
                if exclusive {
                    let rows = try await connection.query(
                        "SELECT pg_try_advisory_xact_lock(\(lockKey))", logger: logger)
                    guard try await acquired(rows, logger: logger) else { return }
                }
                try await run(connection, logger)
            }
            return
        }
        try await client.withConnection(leaseTimeout: DatabaseAttempt.defaultTimeout) { connection in
            guard exclusive else { return try await run(connection, logger) }
            let rows = try await connection.query("SELECT pg_try_advisory_lock(\(lockKey))", logger: logger)
            guard try await acquired(rows, logger: logger) else { return }
            // The pooled connection outlives the run, and the session lock with it.
            do {
                try await run(connection, logger)
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger).collect()
                throw error
            }
            _ = try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger).collect()
        }
    }

    private func acquired(_ rows: PostgresRowSequence, logger: Logger) async throws -> Bool {
        guard let row = try await rows.collect().first, try row.decode(Bool.self) else {
            logger.debug("\(name) skipped: another worker runs it")
            return false
        }
        return true
    }
}
