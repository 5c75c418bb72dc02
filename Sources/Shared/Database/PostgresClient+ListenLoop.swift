import Logging
import PostgresNIO
import Synchronization

extension PostgresClient {
    /// LISTENs on `channel` until the task is cancelled, on a connection of its own.
    ///
    /// `listening` runs after every (re)connect, once the LISTEN is in place: a notice
    /// sent while the connection was down is lost, so the caller reads again what it
    /// may have missed. Then `notified` runs for each notification, in order. A
    /// failure (the database went away, no connection, LISTEN and `listening`
    /// within `leaseTimeout`) is logged and retried after a pause growing from 0.1 s
    /// to 5 s; a connection that got to listen starts the pause over.
    public func listenUntilCancelled(
        on channel: String, leaseTimeout: Duration = DatabaseAttempt.defaultTimeout, logger: Logger,
        listening: @escaping @Sendable (PostgresConnection) async throws -> Void,
        notified: @escaping @Sendable (PostgresNotification) async throws -> Void
    ) async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            let listened = Atomic(false)
            do {
                // Bounded until `listening` has run: the lease, the LISTEN and the
                // caller's catch-up, any of which never ends on a connection that
                // closed as it was leased. Then it listens as long as it lasts.
                try await withConnection(startTimeout: leaseTimeout) { connection, started in
                    try await connection.listen(on: channel) { notifications in
                        try await listening(connection)
                        try started()
                        listened.store(true, ordering: .relaxed)
                        for try await notification in notifications {
                            try await notified(notification)
                        }
                    }
                }
            } catch {
                guard !Task.isCancelled else { return }
                logger.warning("listening on \(channel) failed, retrying: \(String(reflecting: error))")
                if listened.load(ordering: .relaxed) { backoff = .milliseconds(100) }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }
}
