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
    if let timeout {
        // On an event loop's timer, not `Task.sleep` (``NIOCore/EventLoop/sleep(for:)``
        // says why): the inbox notice is such an attempt every few milliseconds.
        let eventLoop = NIOSingletons.posixEventLoopGroup.any()
        giveUp(
            outcome, task, at: eventLoop.now + TimeAmount(timeout), on: eventLoop, when: mayGiveUp,
            throwing: timeoutError)
    }
    return try await withTaskCancellationHandler {
        try await outcome.wait()
    } onCancel: {
        outcome.finish(with: .failure(CancellationError()))
        task.cancel()
    }
}

/// Ends `outcome` with the timeout's error at `deadline` and cancels `task`, unless
/// the outcome is in by then (or `mayGiveUp` says no).
///
/// The timer is never cancelled: NIO cancels a scheduled task by searching its event
/// loop's whole queue, which in a gateway holds every connection's timers (the
/// gateway's `ConnectionTimers` says more), and almost every attempt ends within
/// milliseconds. Instead the timer looks in hops of at most ``abandonmentHop``; a
/// hop that finds the outcome in, or gone, ends there. So a finished attempt's timer
/// is gone within a hop, and it holds the outcome only weakly meanwhile.
private func giveUp<Result: Sendable>(
    _ outcome: FirstOutcome<Result>, _ task: Task<Void, Never>, at deadline: NIODeadline,
    on eventLoop: any EventLoop, when mayGiveUp: @escaping @Sendable () -> Bool,
    throwing timeoutError: @escaping @Sendable () -> any Error
) {
    let hop = min(deadline, eventLoop.now + abandonmentHop)
    eventLoop.scheduleTask(deadline: hop) { [weak outcome] in
        guard let outcome, !outcome.isFinished else { return }
        guard hop == deadline else {
            return giveUp(outcome, task, at: deadline, on: eventLoop, when: mayGiveUp, throwing: timeoutError)
        }
        guard mayGiveUp() else { return }
        outcome.finish(with: .failure(timeoutError()))
        task.cancel()
    }
}

/// The longest a timer of ``withAbandonment(after:when:throwing:_:)`` waits before it
/// looks whether its attempt is still running.
let abandonmentHop = TimeAmount.seconds(1)
