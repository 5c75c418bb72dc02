import NIOCore

extension EventLoop {
    /// Suspends the calling task for `duration`, timed by this event loop.
    ///
    /// The gateway's and the worker's timed waits on their busy paths use this
    /// instead of `Task.sleep`. Both run Swift concurrency on NIO's event loops, but
    /// the standard library times every `Task.sleep` on Dispatch whatever the
    /// executor: each sleep is a Dispatch timer, whose firing wakes Dispatch threads
    /// only to hand the task back to an event loop, and a cancelled sleep stays in
    /// Dispatch's timer heap until its deadline. The ingest writer and the inbox
    /// notifier wait at every batch, and the Dispatch threads took about 6 % of the
    /// gateway's CPU at 2,000 messages/s (docs/BENCHMARKS.md). An event loop's timer
    /// costs no thread.
    ///
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(for duration: Duration) async throws {
        let timer = scheduleTask(in: TimeAmount(duration)) {}
        try await withTaskCancellationHandler {
            do {
                try await timer.futureResult.get()
            } catch {
                throw CancellationError()  // the only way the timer fails
            }
        } onCancel: {
            timer.cancel()
        }
    }
}
