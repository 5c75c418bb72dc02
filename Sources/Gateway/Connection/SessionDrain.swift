import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// Graceful shutdown of the station sessions: each live connection is closed with
/// 1001 once its CALL in flight is answered, at a random moment within the drain
/// time, so that a rolling deploy moves the stations to the other gateways a few
/// at a time rather than all in the same second.
final class SessionDrain: Sendable {
    private let registry: ConnectionRegistry
    private let duration: Duration
    private let draining = Atomic<Bool>(false)

    init(registry: ConnectionRegistry, duration: Duration) {
        self.registry = registry
        self.duration = duration
    }

    /// Whether the drain has begun: a session that starts from now on closes at once.
    var isDraining: Bool { draining.load(ordering: .sequentiallyConsistent) }

    /// Closes every live connection, spread over the drain time; returns when all
    /// have been told. Only the first call does anything.
    func run() async {
        guard !draining.exchange(true, ordering: .sequentiallyConsistent) else { return }
        // Set before the registry is read: a session registering now either is in
        // the list or sees the flag (``SessionSteps/open(_:)``).
        let connections = await registry.all.shuffled()
        let start = ContinuousClock.now
        let close = StationSessionStateMachine.shutdownClose
        for (index, connection) in connections.enumerated() {
            try? await Task.sleep(until: start + duration * (Double(index) / Double(connections.count)))
            connection.close(code: close.code, reason: close.reason)
        }
    }
}

/// A station server (the plain or the TLS listener) whose graceful shutdown also
/// drains the station sessions. The server itself stops accepting and waits for its
/// connections to close; the drain closes them.
struct StationServer: Service {
    let server: any Service
    let drain: SessionDrain

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            Task { await drain.run() }
        }
    }
}
