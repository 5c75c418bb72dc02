import Logging
import PostgresNIO
import Synchronization

extension PostgresClient {
    /// Runs `body` with a client whose pool is running, then shuts the pool down: for
    /// one-shot commands (migrate, seed) and tests. Long-running processes put the
    /// client in their ServiceGroup instead.
    ///
    /// The pool's shutdown is awaited for at most `shutdownGrace`: the work is done
    /// by then, and a connection that is slow to close must not hold the caller.
    @discardableResult
    public static func withClient<Result: Sendable>(
        configuration: PostgresClient.Configuration, logger: Logger,
        shutdownGrace: Duration = .seconds(2),
        _ body: @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let pool = startRunning(client)
        defer {
            pool.cancel()
        }
        let result = try await body(client)
        pool.cancel()
        // Whichever comes first: the pool has shut down, or the grace period is over.
        let finished = Mutex(false)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeOnce: @Sendable () -> Void = {
                if finished.withLock({ done in
                    defer { done = true }; return !done
                }) {
                    continuation.resume()
                }
            }
            Task {
                await pool.value
                resumeOnce()
            }
            Task {
                try? await Task.sleep(for: shutdownGrace)
                resumeOnce()
            }
        }
        return result
    }

    /// Starts `client`'s pool and returns its task, with the client marked running
    /// before this returns. `run()` marks it on its first line; in a plain `Task`
    /// that line could come after the caller's first lease, and PostgresNIO then
    /// logs a warning that `run()` has not been called (at every `ocpp-worker
    /// migrate`). `Task.immediate` runs the task's first part here, up to its first
    /// suspension.
    public static func startRunning(_ client: PostgresClient) -> Task<Void, Never> {
        if #available(macOS 26, *) {
            return Task.immediate { await client.run() }
        }
        return Task { await client.run() }
    }
}
