import Logging
import PostgresNIO
import ServiceLifecycle

/// Runs the worker's drain loops, `wakeups.count` of them, each applying one batch
/// at a time on its own connection (claims skip each other's rows).
///
/// A loop applies batches while there is work, then sleeps until NOTIFY wakes it or
/// the poll interval passes. A failed batch (the database went away, a deadlock) is
/// retried after a growing pause; the pool reconnects by itself. On graceful
/// shutdown each loop finishes and commits the batch in hand, then ends.
struct InboxDrainer: Service {
    let applier: InboxApplier
    /// One per drain loop; the listener signals them all.
    let wakeups: [Wakeup]
    let pollInterval: Duration
    let logger: Logger

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for wakeup in wakeups {
                group.addTask { await drainLoop(wakeup: wakeup) }
            }
        }
    }

    private func drainLoop(wakeup: Wakeup) async {
        var backoff = Duration.milliseconds(100)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let batch = try await applier.applyNextBatch()
                backoff = .milliseconds(100)
                if batch.ids.count < applier.batchSize {
                    await pause(pollInterval, wakeup: wakeup)
                }
            } catch {
                logger.warning("applying work rows failed, retrying: \(String(reflecting: error))")
                await pause(backoff, wakeup: wakeup)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    private func pause(_ duration: Duration, wakeup: Wakeup) async {
        await cancelWhenGracefulShutdown { await wakeup.wait(upTo: duration) }
    }
}
