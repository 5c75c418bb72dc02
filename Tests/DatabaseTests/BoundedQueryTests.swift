import PostgresNIO
import Shared
import TestSupport
import Testing

/// The reads of the admin API and the console: all their rows, on a connection
/// checked to be open, and an error, not a request that never ends, when the
/// database does not answer in time.
@Suite("Bounded query", .timeLimit(.minutes(1)))
struct BoundedQueryTests {
    @Test func returnsEveryRowOfTheQuery() async throws {
        try await withPool { client in
            let rows = try await client.boundedRows(
                "SELECT n FROM generate_series(1, 3) AS n", logger: TestDatabase.logger)
            #expect(try rows.map { try $0.decode(Int.self) } == [1, 2, 3])
        }
    }

    /// A statement that takes longer than the bound: the caller gets ``DatabaseAttempt/TimedOut``
    /// at the bound, not when the statement ends, and the pool serves the next query.
    /// (Three seconds, not more: the sleeping statement holds a snapshot, which the
    /// worker's journal tests that run after this one would wait for.)
    @Test func aQueryNotAnsweredInTimeIsGivenUp() async throws {
        try await withPool { client in
            let clock = ContinuousClock()
            let start = clock.now
            await #expect(throws: DatabaseAttempt.TimedOut.self) {
                try await client.boundedRows(
                    "SELECT pg_sleep(3)", timeout: .milliseconds(300), logger: TestDatabase.logger)
            }
            #expect(clock.now - start < .seconds(2))
            let rows = try await client.boundedRows("SELECT 42", logger: TestDatabase.logger)
            #expect(try rows.first?.decode(Int.self) == 42)
        }
    }

    private func withPool(_ body: @Sendable (PostgresClient) async throws -> Void) async throws {
        var configuration = try TestDatabase.serverConfiguration
        configuration.options.maximumConnections = 2
        try await PostgresClient.withClient(configuration: configuration, logger: TestDatabase.logger, body)
    }
}
