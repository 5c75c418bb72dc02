import NIOCore
import NIOPosix

/// Runs `operation` in a task of its own and returns what it returns, but waits for
/// it at most `timeout` (then throws `timeoutError()`, unless `mayGiveUp`, asked
/// then, says the work has got too far to be given up) and not past the calling
/// task's cancellation (then throws `CancellationError`). Either way the operation's
/// task is cancelled and left to end in its own time: the caller goes on at once.
///
/// For database work, whose end PostgresNIO does not always deliver: a statement
/// written to a pooled connection that closed a moment before (the database
/// restarted, or terminated that backend) is never answered, and cancelling the
/// task does not end the wait. A task group cannot give such a wait up, because it
/// waits for every child before it returns; a timeout built from one hung with the
/// statement, and with it a gateway's ingest writer, for good.
public func withAbandonment<Result: Sendable>(
    after timeout: Duration?,
    when mayGiveUp: @escaping @Sendable () -> Bool = { true },
    throwing timeoutError: @escaping @Sendable () -> any Error,
    _ operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    let outcome = FirstOutcome<Result>()
    let task = outcome.finish(withResultOf: operation)
    // On an event loop's timer, not `Task.sleep` (``NIOCore/EventLoop/sleep(for:)``
    // says why): the inbox notice is such an attempt every few milliseconds.
    let timer = timeout.map { timeout in
        NIOSingletons.posixEventLoopGroup.any().scheduleTask(in: TimeAmount(timeout)) {
            guard mayGiveUp() else { return }
            outcome.finish(with: .failure(timeoutError()))
            task.cancel()
        }
    }
    defer { timer?.cancel() }
    return try await withTaskCancellationHandler {
        try await outcome.wait()
    } onCancel: {
        outcome.finish(with: .failure(CancellationError()))
        task.cancel()
    }
}
