import Synchronization

/// A one-shot notice of graceful shutdown for one WebSocket session.
///
/// Actions registered after the notice run at once, so a session that starts while
/// the server is stopping still hears of it.
final class ShutdownSignal: Sendable {
    private let state = Mutex<(triggered: Bool, actions: [@Sendable () -> Void])>((false, []))

    func onShutdown(_ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state in
            if state.triggered { return true }
            state.actions.append(action)
            return false
        }
        if runNow { action() }
    }

    func trigger() {
        let actions = state.withLock { state in
            state.triggered = true
            defer { state.actions = [] }
            return state.actions
        }
        for action in actions { action() }
    }
}
