import Logging
import PostgresNIO

extension PostgresClient {
    /// How long an HTTP request (the admin API, the console) waits for the database:
    /// longer than any of their statements take when the database is well (the
    /// console's largest export reads 200,000 rows in a few seconds), short enough
    /// that an operator gets an answer and not a request that never ends.
    public static let requestTimeout: Duration = .seconds(30)

    /// The rows of `query`, read on a connection checked to be open, and given up
    /// after `timeout` (``DatabaseAttempt``): a statement written to a pooled
    /// connection that closed a moment before is never answered, and the request
    /// that waits for it would never end.
    ///
    /// The rows are collected before they are returned, so that the whole read is
    /// inside the bound; for the reads of a request, which are bounded in size.
    public func boundedRows(
        _ query: PostgresQuery, timeout: Duration = requestTimeout, logger: Logger
    ) async throws -> [PostgresRow] {
        try await DatabaseAttempt.run(timeout: timeout) { [self] in
            // A closed connection the pool leased is dropped by it meanwhile: the
            // next lease gets another one.
            for _ in 1..<Self.leaseAttempts {
                do {
                    return try await rows(query, logger: logger)
                } catch is LeasedConnectionClosed {
                    continue
                }
            }
            return try await rows(query, logger: logger)
        }
    }

    private static let leaseAttempts = 3

    private func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await withConnection { connection in
            try connection.requireOpen()
            return try await connection.query(query, logger: logger).collect()
        }
    }
}
