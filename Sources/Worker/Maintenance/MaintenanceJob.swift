import Logging
import PostgresNIO

/// A periodic job of the worker: SQL run every `interval`. Jobs that several workers
/// must not run at once (partition DDL, the rollup) hold a transaction-level advisory
/// lock; a worker that does not get it skips the round, since another one is doing it.
struct MaintenanceJob: Sendable {
    var name: String
    var interval: Duration
    /// Run under `pg_try_advisory_xact_lock` (one worker at a time).
    var exclusive: Bool
    var run: @Sendable (PostgresConnection, Logger) async throws -> Void

    /// The lock key: "ocppjob" and a small number per job name.
    var lockKey: Int64 {
        Int64(0x6F63_7070_6A6F_0000) | Int64(name.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF })
    }

    func runOnce(client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            if exclusive {
                let rows = try await connection.query("SELECT pg_try_advisory_xact_lock(\(lockKey))", logger: logger)
                guard let row = try await rows.collect().first, try row.decode(Bool.self) else {
                    logger.debug("\(name) skipped: another worker runs it")
                    return
                }
            }
            try await run(connection, logger)
        }
    }
}
