import Logging
import PostgresNIO
import ServiceLifecycle

/// Applies batches while there is work, then sleeps until NOTIFY wakes it or the
/// poll interval passes. A failed batch (the database went away, a deadlock) is
/// retried after a growing pause; the pool reconnects by itself. On graceful
/// shutdown the batch in hand is finished and committed, then the loop ends.
struct InboxDrainer: Service {
    let applier: InboxApplier
    let wakeup: Wakeup
    let pollInterval: Duration
    let health: WorkerHealth
    let logger: Logger

    func run() async throws {
        var backoff = Duration.milliseconds(100)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let batch = try await applier.applyNextBatch()
                health.databaseReachable(true)
                backoff = .milliseconds(100)
                if batch.ids.count < applier.batchSize {
                    await pause(pollInterval)
                }
            } catch {
                health.databaseReachable(false)
                logger.warning("applying work rows failed, retrying: \(String(reflecting: error))")
                await pause(backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    private func pause(_ duration: Duration) async {
        let wakeup = self.wakeup
        await cancelWhenGracefulShutdown { await wakeup.wait(upTo: duration) }
    }
}
