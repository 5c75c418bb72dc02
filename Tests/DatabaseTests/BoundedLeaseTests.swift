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
            try await client.withConnection { _ in }  // connected: the lease below is at once
            let answer = try await client.withTransaction(leaseTimeout: .milliseconds(500), logger: TestDatabase.logger)
            {
                connection in
                try await Task.sleep(for: .seconds(1))
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

    /// Work on a connection that closed as it was leased is never answered, and
    /// cancelling does not end it: the loop's cancellation (its shutdown) returns at
    /// once all the same.
    @Test func aCancelledRequestDoesNotWaitForItsWork() async throws {
        try await withOneConnectionPool { client in
            let stuck = NonCancellableWait()
            let (leased, leasing) = AsyncStream<Void>.makeStream()
            let request = Task {
                try await client.withConnection(leaseTimeout: .seconds(30)) { _ in
                    leasing.yield()
                    await stuck.wait()
                }
            }
            for await _ in leased { break }
            request.cancel()
            await #expect(throws: CancellationError.self) { try await request.value }
            #expect(!stuck.isReleased)
            stuck.release()
        }
    }

    /// What the body does before it calls `started` (a LISTEN, say) is bounded like
    /// the lease; given up, it is not waited for.
    @Test func aStartThatDoesNotComeInTimeIsGivenUp() async throws {
        try await withOneConnectionPool { client in
            let stuck = NonCancellableWait()
            await #expect(throws: LeaseTimedOut.self) {
                try await client.withConnection(startTimeout: .milliseconds(200)) { _, started in
                    await stuck.wait()
                    try started()
                }
            }
            #expect(!stuck.isReleased)
            stuck.release()  // and the pool's only connection with it

            // A body that reaches `started` late finds it was given up and does not go on.
            let (entered, entering) = AsyncStream<Void>.makeStream()
            let gate = NonCancellableWait()
            let (ended, ending) = AsyncStream<Bool>.makeStream()
            let late = Task {
                try await client.withConnection(startTimeout: .seconds(1)) { _, started in
                    entering.yield()
                    await gate.wait()
                    do {
                        try started()
                        ending.yield(true)
                    } catch {
                        ending.yield(false)
                        throw error
                    }
                }
            }
            for await _ in entered { break }
            await #expect(throws: LeaseTimedOut.self) { try await late.value }
            gate.release()
            var iterator = ended.makeAsyncIterator()
            #expect(await iterator.next() == false)
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
