import PostgresNIO

extension PostgresConnection {
    /// Throws ``LeasedConnectionClosed`` when this connection has closed.
    ///
    /// PostgresNIO's pool can lease a connection that closed a moment before (the
    /// database restarted, or terminated that backend) while it has not yet heard
    /// of the close, and a statement written to such a connection is never answered.
    /// Checked right after the lease, it turns most of those waits into an error
    /// that is retried at once; ``withAbandonment(after:throwing:_:)`` bounds the rest.
    public func requireOpen() throws(LeasedConnectionClosed) {
        guard !isClosed else { throw LeasedConnectionClosed() }
    }
}

/// The pool leased a connection that had closed.
public struct LeasedConnectionClosed: Error, CustomStringConvertible {
    public var description: String { "the pool leased a database connection that had closed" }
}
