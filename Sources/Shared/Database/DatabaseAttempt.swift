import NIOCore
import NIOPosix

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

    /// Runs `operation`; after `timeout` it is cancelled (a connection request still
    /// queued in the pool ends at once; a statement already sent runs to its end
    /// first) and ``TimedOut`` thrown.
    public static func run<Result: Sendable>(
        timeout: Duration = defaultTimeout, _ operation: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                // On an event loop's timer, not `Task.sleep` (``NIOCore/EventLoop/sleep(for:)``
                // says why): the inbox notice runs as an attempt every few milliseconds.
                try await NIOSingletons.posixEventLoopGroup.any().sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let result = try await group.next(), let result else { throw TimedOut(after: timeout) }
            return result
        }
    }

    public struct TimedOut: Error, CustomStringConvertible {
        public var after: Duration
        public var description: String { "no answer from the database within \(after)" }
    }
}
