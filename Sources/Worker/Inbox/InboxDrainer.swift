import Logging
import PostgresNIO
import ServiceLifecycle

/// Runs the worker's drain loops, `wakeups.count` of them, each applying one batch
/// at a time on its own connection (claims skip each other's rows).
///
/// A loop applies batches while there is work, then sleeps until NOTIFY wakes it or
/// the poll interval passes, and then lets rows gather for `batchDelay` before it
/// claims again. A failed batch (the database went away, a deadlock) is
/// retried after a growing pause; the pool reconnects by itself. On graceful
/// shutdown each loop finishes and commits the batch in hand, then ends.
struct InboxDrainer: Service {
    let applier: InboxApplier
    /// One per drain loop; the listener signals them all.
    let wakeups: [Wakeup]
    let pollInterval: Duration
    /// After a short batch, how long rows gather once the loop is woken.
    var batchDelay = Duration.zero
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
                    // Let the rows of a few more gateway batches arrive: one claim for
                    // them all costs what one claim for each would cost apiece.
                    if batchDelay > .zero {
                        await cancelWhenGracefulShutdown { try? await Task.sleep(for: batchDelay) }
                    }
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
