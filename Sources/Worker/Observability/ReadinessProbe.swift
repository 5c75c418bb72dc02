import Logging
import PostgresNIO
import ServiceLifecycle
import Shared

/// Keeps `/readyz` true to the database: a `SELECT 1` every `interval`, given at most
/// `timeout`. The drain loops alone would not notice an outage: while the pool cannot
/// connect, a lease waits instead of failing, and so does the batch.
struct ReadinessProbe: Service {
    let client: PostgresClient
    let health: WorkerHealth
    var interval = Duration.seconds(2)
    var timeout = Duration.seconds(2)
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let reachable = await probe()
                if reachable != health.isReady {
                    logger.notice(reachable ? "database reachable" : "database unreachable")
                }
                health.databaseReachable(reachable)
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Given up at `timeout` rather than waited for (``DatabaseAttempt``): a
    /// `SELECT 1` on a pooled connection that had just closed is never answered.
    private func probe() async -> Bool {
        (try? await DatabaseAttempt.run(timeout: timeout) { [client, logger] in
            _ = try await client.query("SELECT 1", logger: logger).collect()
        }) != nil
    }
}
