import PostgresNIO
import Synchronization

extension PostgresClient {
    /// `withConnection`, giving up when the pool has not leased a connection within
    /// `leaseTimeout`; once leased, `body` runs as long as it takes.
    ///
    /// For the long-lived loops (the worker's drain loops and periodic jobs): a
    /// connection request the pool strands (see ``DatabaseAttempt``) would stop such
    /// a loop for good, while its work, a batch of thousands of rows, must not be
    /// cut short by a timeout. Giving up cancels the queued request, and the loop's
    /// next attempt is served.
    public func withConnection<Result: Sendable>(
        leaseTimeout: Duration,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection(startTimeout: leaseTimeout) { connection, started in
            try started()
            return try await body(connection)
        }
    }

    /// `withConnection`, giving up unless `body` calls `started` within
    /// `startTimeout` of the request: the lease and whatever `body` does first (a
    /// LISTEN, say) are bounded, the rest is not. `started` throws
    /// ``LeaseTimedOut`` when the attempt was given up meanwhile.
    ///
    /// A request given up, or one whose task is cancelled, returns at once, without
    /// waiting for `body` (``withAbandonment(after:throwing:_:)`` says why): a
    /// connection that closed just before it was leased never answers, and such a
    /// wait would hold the loop, or its shutdown, for good.
    public func withConnection<Result: Sendable>(
        startTimeout: Duration,
        _ body: @escaping @Sendable (PostgresConnection, _ started: @Sendable () throws -> Void) async throws -> Result
    ) async throws -> Result {
        let start = StartRace()
        return try await withAbandonment(
            after: startTimeout, when: start.giveUp, throwing: { LeaseTimedOut(after: startTimeout) }
        ) {
            try await self.withConnection { connection in
                try connection.requireOpen()
                return try await body(connection) {
                    guard start.markStarted() else { throw LeaseTimedOut(after: startTimeout) }
                }
            }
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

/// No connection from the pool, or no start on it, in time.
public struct LeaseTimedOut: Error, CustomStringConvertible {
    public var after: Duration
    public var description: String { "no database connection from the pool within \(after)" }
}

/// Which came first, the start or the timeout: only one of them wins, so a body
/// that has started is never given up, and one given up never starts.
private final class StartRace: Sendable {
    private static let pending: UInt8 = 0
    private static let started: UInt8 = 1
    private static let gaveUp: UInt8 = 2
    private let state = Atomic(StartRace.pending)

    /// False when the attempt was given up first.
    func markStarted() -> Bool {
        let (exchanged, original) = state.compareExchange(
            expected: Self.pending, desired: Self.started, ordering: .acquiringAndReleasing)
        return exchanged || original == Self.started
    }

    /// False when the body started first.
    func giveUp() -> Bool {
        state.compareExchange(expected: Self.pending, desired: Self.gaveUp, ordering: .acquiringAndReleasing).exchanged
    }
}
