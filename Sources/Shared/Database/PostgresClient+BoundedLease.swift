import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

extension PostgresClient {
    /// `withConnection`, giving up when the pool has not leased a connection within
    /// `leaseTimeout`; once leased, `body` runs as long as it takes.
    ///
    /// For the long-lived loops (the worker's drain loops and periodic jobs, the
    /// LISTEN loops): a connection request the pool strands
    /// (see ``DatabaseAttempt``) would stop such a loop for good, while its work, a
    /// batch of thousands of rows or a LISTEN that never ends, must not be cut short
    /// by a timeout. Giving up cancels the queued request, and the loop's next
    /// attempt is served.
    public func withConnection<Result: Sendable>(
        leaseTimeout: Duration,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let leased = LeaseFlag()
        return try await withThrowingTaskGroup(of: LeaseRace<Result>.self) { group in
            group.addTask {
                let result = try await self.withConnection { connection in
                    leased.value.store(true, ordering: .releasing)
                    return try await body(connection)
                }
                return .finished(result)
            }
            group.addTask {
                try await NIOSingletons.posixEventLoopGroup.any().sleep(for: leaseTimeout)
                return .timerFired
            }
            defer { group.cancelAll() }
            while let outcome = try await group.next() {
                switch outcome {
                case .finished(let result):
                    return result
                case .timerFired:
                    guard leased.value.load(ordering: .acquiring) else { throw LeaseTimedOut(after: leaseTimeout) }
                }
            }
            // Both children end with a value or an error, and the body's value returns.
            preconditionFailure("the connection's task ended without a value")
        }
    }

    /// ``withConnection(leaseTimeout:_:)`` with `body` in a transaction.
    public func withTransaction<Result: Sendable>(
        leaseTimeout: Duration, logger: Logger,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection(leaseTimeout: leaseTimeout) { connection in
            try await connection.withTransaction(logger: logger) { try await body($0) }
        }
    }
}

/// The pool leased no connection in time.
public struct LeaseTimedOut: Error, CustomStringConvertible {
    public var after: Duration
    public var description: String { "no database connection from the pool within \(after)" }
}

/// Set once the pool has leased the connection.
private final class LeaseFlag: Sendable {
    let value = Atomic(false)
}

private enum LeaseRace<Result: Sendable>: Sendable {
    case finished(Result)
    case timerFired
}
