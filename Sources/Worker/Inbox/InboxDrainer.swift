import Logging
import PostgresNIO
import ServiceLifecycle
import Shared

/// Runs the worker's drain loops, one per applier, each applying one batch at a
/// time on its own connection (claims skip each other's rows).
///
/// A loop applies batches while there is work, then sleeps until NOTIFY wakes it or
/// the poll interval passes, and then lets rows gather for `batchDelay` before it
/// claims again. A failed batch (the database went away, a deadlock) is
/// retried after a growing pause; the pool reconnects by itself. On graceful
/// shutdown each loop finishes and commits the batch in hand, then ends; it waits
/// for that batch at most `shutdownGrace`, and not at all once cancelled.
struct InboxDrainer: Service {
    /// One per drain loop, each with its own client (``WorkerApplication``).
    let appliers: [InboxApplier]
    /// One per drain loop; the listener signals them all.
    let wakeups: [Wakeup]
    let pollInterval: Duration
    /// After a short batch, how long rows gather once the loop is woken.
    var batchDelay = Duration.zero
    /// How long graceful shutdown waits for the batch in hand. A batch abandoned
    /// then rolls back when the pool closes its connection; its rows stay for the
    /// next claim.
    var shutdownGrace = Duration.seconds(5)
    let logger: Logger

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for (applier, wakeup) in zip(appliers, wakeups) {
                group.addTask { await drainLoop(applier: applier, wakeup: wakeup) }
            }
        }
    }

    private func drainLoop(applier: InboxApplier, wakeup: Wakeup) async {
        var backoff = Duration.milliseconds(100)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let batch = try await applyNextBatch(with: applier)
                backoff = .milliseconds(100)
                if !batch.mayHaveMore {
                    // Buckets the lease left out have rows already: no notice to wait for.
                    if !batch.leftBucketsOut { await pause(pollInterval, wakeup: wakeup) }
                    // Let the rows of a few more gateway batches arrive: one claim for
                    // them all costs what one claim for each would cost apiece.
                    if batchDelay > .zero {
                        await cancelWhenGracefulShutdown { try? await Task.sleep(for: batchDelay) }
                    }
                }
            } catch {
                guard !Task.isShuttingDownGracefully && !Task.isCancelled else { return }
                logger.warning("applying work rows failed, retrying: \(String(reflecting: error))")
                await pause(backoff, wakeup: wakeup)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// The next batch, applied in a task of its own that this loop can stop waiting
    /// for. PostgresNIO does not cancel a query in flight, and after the database
    /// went away a query on a connection it terminated could wait for ever: the
    /// loop waited with it, past the group's shutdown timeout and past its
    /// cancellation, and ServiceLifecycle then killed the whole process.
    private func applyNextBatch(with applier: InboxApplier) async throws -> ClaimedBatch {
        let outcome = FirstOutcome<ClaimedBatch>()
        let applying = outcome.finish(withResultOf: { try await applier.applyNextBatch() })
        return try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await outcome.wait()
            } onGracefulShutdown: { [shutdownGrace] in
                Task {
                    try? await Task.sleep(for: shutdownGrace)
                    applying.cancel()
                    outcome.finish(with: .failure(CancellationError()))
                }
            }
        } onCancel: {
            applying.cancel()
            outcome.finish(with: .failure(CancellationError()))
        }
    }

    private func pause(_ duration: Duration, wakeup: Wakeup) async {
        await cancelWhenGracefulShutdown { await wakeup.wait(upTo: duration) }
    }
}
