import Synchronization

/// Whether the database answered the worker's last readiness probe, for `/readyz`.
final class WorkerHealth: Sendable {
    private let reachable = Atomic<Bool>(false)

    var isReady: Bool { reachable.load(ordering: .relaxed) }

    func databaseReachable(_ value: Bool) {
        reachable.store(value, ordering: .relaxed)
    }
}
