import Logging
import PostgresNIO
import ServiceLifecycle
import Shared

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
        await client.listenUntilCancelled(
            on: InboxChannel.name, logger: logger,
            listening: { _ in wakeAll() },
            notified: { _ in wakeAll() })
    }

    private func wakeAll() {
        for wakeup in wakeups { wakeup.signal() }
    }
}
