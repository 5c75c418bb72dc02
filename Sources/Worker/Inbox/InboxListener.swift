import Logging
import PostgresNIO
import ServiceLifecycle
import Shared
import Synchronization

/// LISTENs on ``InboxChannel``, where each gateway notifies after its batches commit
/// (at most every few milliseconds), and wakes the drainer. After every (re)connect it wakes the drainer once
/// too: a notice sent while the connection was down is lost, and the table is the
/// truth.
struct InboxListener: Service {
    let client: PostgresClient
    /// The drain loops' wake-ups.
    let wakeups: [Wakeup]
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await listenLoop() }
    }

    private func listenLoop() async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            let listened = Atomic(false)
            do {
                try await client.withConnection(leaseTimeout: DatabaseAttempt.defaultTimeout) { connection in
                    try await connection.listen(on: InboxChannel.name) { notifications in
                        wakeAll()
                        listened.store(true, ordering: .relaxed)
                        for try await _ in notifications {
                            wakeAll()
                        }
                    }
                }
            } catch {
                guard !Task.isCancelled else { return }
                logger.warning("listening on \(InboxChannel.name) failed, retrying: \(String(reflecting: error))")
                // A connection that got to listen starts the backoff over.
                if listened.load(ordering: .relaxed) { backoff = .milliseconds(100) }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    private func wakeAll() {
        for wakeup in wakeups { wakeup.signal() }
    }
}
