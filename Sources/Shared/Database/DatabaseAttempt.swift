/// One database attempt, given up after a timeout, for steps that hold something up
/// while they run (a station's command queue, its connection's start).
///
/// PostgresNIO's pool can leave a connection request queued for good when it was
/// made just as the database dropped every connection, while later requests get the
/// new ones (seen in the gateway's outage test under CPU load; postgres-nio issue
/// 657 is one such case). Giving up cancels the request, and the next one is served.
public enum DatabaseAttempt {
    /// Far longer than any of these steps' statements take when the database is
    /// well, short enough that a stalled step is retried while the station waits.
    public static let defaultTimeout: Duration = .seconds(10)

    /// Runs `operation`; after `timeout` it is cancelled and ``TimedOut`` thrown at
    /// once, without waiting for it to end (``withAbandonment(after:throwing:_:)``
    /// says why): a connection request still queued in the pool ends then; a
    /// statement already sent runs to its end, or is never answered, on its own.
    public static func run<Result: Sendable>(
        timeout: Duration = defaultTimeout, _ operation: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        try await withAbandonment(after: timeout, throwing: { TimedOut(after: timeout) }, operation)
    }

    public struct TimedOut: Error, CustomStringConvertible {
        public var after: Duration
        public var description: String { "no answer from the database within \(after)" }
    }
}
