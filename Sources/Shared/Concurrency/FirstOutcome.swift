import Synchronization

/// The first of several ends of a wait (an operation's result, a timeout, a
/// shutdown), handed to the waiter once, also when it comes before the waiter
/// waits. Later ends are ignored.
public final class FirstOutcome<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Value, any Error>)
        case finished(Result<Value, any Error>)
        case resumed
    }

    private let state = Mutex(State.idle)

    public init() {}

    /// Waits for the first end; call once. Does not end by itself when the task
    /// is cancelled: the caller finishes the outcome from its cancellation handler.
    public func wait() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let early = state.withLock { state -> Result<Value, any Error>? in
                guard case .finished(let result) = state else {
                    state = .waiting(continuation)
                    return nil
                }
                state = .resumed
                return result
            }
            if let early { continuation.resume(with: early) }
        }
    }

    /// Whether the wait has ended (or its result is in, waiting to be taken).
    public var isFinished: Bool {
        state.withLock { state in
            switch state {
            case .idle, .waiting: false
            case .finished, .resumed: true
            }
        }
    }

    /// Ends the wait with `result`, unless it has ended already.
    public func finish(with result: Result<Value, any Error>) {
        let waiting = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            switch state {
            case .idle:
                state = .finished(result)
                return nil
            case .waiting(let continuation):
                state = .resumed
                return continuation
            case .finished, .resumed:
                return nil
            }
        }
        waiting?.resume(with: result)
    }

    /// Starts `operation` in a task of its own, whose result ends the wait; returns
    /// that task, to cancel when the wait ends another way.
    public func finish(
        withResultOf operation: @escaping @Sendable () async throws -> Value
    ) -> Task<Void, Never> {
        Task {
            do {
                finish(with: .success(try await operation()))
            } catch {
                finish(with: .failure(error))
            }
        }
    }
}
