import Synchronization

/// A wait that only ``release()`` ends, whatever happens to the waiting task: what a
/// PostgresNIO statement on a connection that closed as it was leased does.
public final class NonCancellableWait: Sendable {
    private struct State {
        var released = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// A wait that ends by itself after `limit`, so that a test whose code does wait
    /// for it fails (the wait was released when it returned) instead of hanging.
    public init(limit: Duration = .seconds(10)) {
        Task { [weak self] in
            try? await Task.sleep(for: limit)
            self?.release()
        }
    }

    public var isReleased: Bool { state.withLock { $0.released } }

    public func wait() async {
        await withCheckedContinuation { continuation in
            let released = state.withLock { state in
                if !state.released { state.waiters.append(continuation) }
                return state.released
            }
            if released { continuation.resume() }
        }
    }

    /// Ends every wait, now and later.
    public func release() {
        let waiters = state.withLock { state in
            state.released = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
