import PostgresNIO
import Shared
import TestSupport
import Testing

/// The long-lived loops' connection lease: a request the pool does not serve in
/// time is given up (and the pool serves the next one), while work on a leased
/// connection is never cut short by the same timeout.
@Suite("Bounded connection lease", .timeLimit(.minutes(1)))
struct BoundedLeaseTests {
    /// One connection, held by another task: the request waits in the pool's queue,
    /// as a stranded request does, and is given up after the timeout.
    @Test func aRequestThePoolDoesNotServeIsGivenUpAndTheNextOneIsServed() async throws {
        try await withOneConnectionPool { client in
            let (held, holding) = AsyncStream<Void>.makeStream()
            let (release, releasing) = AsyncStream<Void>.makeStream()
            async let holder: Void = client.withConnection { _ in
                holding.yield()
                for await _ in release { break }
            }
            for await _ in held { break }

            await #expect(throws: LeaseTimedOut.self) {
                try await client.withConnection(leaseTimeout: .milliseconds(200)) { _ in 1 }
            }

            releasing.yield()
            try await holder
            let answer = try await client.withConnection(leaseTimeout: .seconds(30)) { connection in
                try await connection.query("SELECT 42", logger: TestDatabase.logger).collect().first?.decode(Int.self)
            }
            #expect(answer == 42)
        }
    }

    @Test func workOnALeasedConnectionRunsPastTheTimeout() async throws {
        try await withOneConnectionPool { client in
            let answer = try await client.withTransaction(leaseTimeout: .milliseconds(100), logger: TestDatabase.logger)
            {
                connection in
                try await Task.sleep(for: .milliseconds(400))
                return try await connection.query("SELECT 7", logger: TestDatabase.logger).collect().first?.decode(
                    Int.self)
            }
            #expect(answer == 7)
        }
    }

    @Test func theWorksErrorIsThrownAsIs() async throws {
        try await withOneConnectionPool { client in
            await #expect(throws: Refused.self) {
                try await client.withConnection(leaseTimeout: .seconds(30)) { _ -> Int in throw Refused() }
            }
        }
    }

    private func withOneConnectionPool(_ body: @Sendable (PostgresClient) async throws -> Void) async throws {
        var configuration = try TestDatabase.serverConfiguration
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = 1
        try await PostgresClient.withClient(configuration: configuration, logger: TestDatabase.logger, body)
    }
}

private struct Refused: Error {}
