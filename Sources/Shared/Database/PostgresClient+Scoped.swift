import Logging
import PostgresNIO

extension PostgresClient {
    /// Runs `body` with a client whose pool is running, and shuts the pool down after:
    /// for one-shot commands (migrate, seed) and tests. Long-running processes put
    /// the client in their ServiceGroup instead.
    @discardableResult
    public static func withClient<Result: Sendable>(
        configuration: PostgresClient.Configuration, logger: Logger,
        _ body: @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
