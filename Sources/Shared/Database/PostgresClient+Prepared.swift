import Logging
import PostgresNIO

extension PostgresClient {
    /// Runs a prepared statement and returns all its rows.
    ///
    /// The rows are read to the end: the pool connection is leased until they are.
    /// Statements on a hot path are prepared (``PostgresPreparedStatement``) because
    /// PostgresNIO then parses and plans them once per pool connection, where a plain
    /// query is parsed and planned by the server at every execution.
    public func rows<Statement: PostgresPreparedStatement>(
        of statement: Statement, logger: Logger
    ) async throws -> [Statement.Row] {
        var rows: [Statement.Row] = []
        for try await row in try await execute(statement, logger: logger) {
            rows.append(row)
        }
        return rows
    }
}

extension PostgresConnection {
    /// Runs a prepared statement for its effect, reading its rows (if any) to the end.
    public func run<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws {
        for try await _ in try await execute(statement, logger: logger) {}
    }
}
