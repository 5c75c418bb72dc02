import Synchronization

/// Whether the worker's last round trip to the database succeeded, for `/readyz`.
final class WorkerHealth: Sendable {
    private let reachable = Atomic<Bool>(false)

    var isReady: Bool { reachable.load(ordering: .relaxed) }

    func databaseReachable(_ value: Bool) {
        reachable.store(value, ordering: .relaxed)
    }
}
