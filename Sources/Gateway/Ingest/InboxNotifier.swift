import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Shared

/// Tells the workers that journal rows arrived: one `NOTIFY ocpp_inbox` in a
/// statement of its own after a batch commits, at most once per ``interval``,
/// however many batches committed meanwhile.
///
/// Not inside the batch statement: PostgreSQL queues a transaction's notifications
/// at commit under one lock for the whole cluster, so every batch that notified
/// waited for every other committing transaction that notified — each gateway's
/// batches and the workers' among them. A batch's commit now takes no such lock; the
/// notice follows it within ``interval``. A notice that is lost (the database
/// restarts, this statement fails) costs only the workers' poll interval: the
/// journal, not the notice, is what they read.
final class InboxNotifier: Service, Sendable {
    /// The shortest time between two notices of this gateway.
    static let interval = Duration.milliseconds(5)

    private let client: PostgresClient
    private let gatewayID: String
    private let logger: Logger
    /// Times the interval (``EventLoop/sleep(for:)`` says why not `Task.sleep`).
    private let eventLoop: any EventLoop
    private let commits: AsyncStream<Void>
    private let commitsContinuation: AsyncStream<Void>.Continuation

    init(
        client: PostgresClient, gatewayID: String,
        eventLoop: any EventLoop = NIOSingletons.posixEventLoopGroup.any(), logger: Logger
    ) {
        self.client = client
        self.eventLoop = eventLoop
        self.gatewayID = gatewayID
        self.logger = logger
        // Commits that arrive while a notice is being sent or while the interval
        // runs are one: the next notice covers them all.
        (commits, commitsContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// A batch of journal rows committed; returns at once.
    @Sendable func batchCommitted() {
        commitsContinuation.yield()
    }

    func run() async throws {
        // Listed before the ingest writer, so it stops after the writer's last batch;
        // the notice of that batch is sent before the stream ends.
        await withGracefulShutdownHandler {
            for await _ in commits {
                do {
                    try await DatabaseAttempt.run { [client, gatewayID, logger] in
                        _ = try await client.query(
                            "SELECT pg_notify(\(InboxChannel.name), \(gatewayID))", logger: logger)
                    }
                } catch {
                    logger.debug("inbox notice not sent: \(String(reflecting: error))")
                }
                try? await eventLoop.sleep(for: Self.interval)
            }
        } onGracefulShutdown: { [commitsContinuation] in
            commitsContinuation.finish()
        }
    }
}
