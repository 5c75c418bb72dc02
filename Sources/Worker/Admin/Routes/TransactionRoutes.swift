import Hummingbird
import OCPP
import PostgresNIO
import Shared

/// Transactions: filtered by station, status and start time, newest first, and one
/// by id.
struct TransactionRoutes {
    let environment: AdminEnvironment

    var routes: [AdminRoute] {
        [
            AdminRoute(.get, "/api/v1/transactions", handler: list),
            AdminRoute(.get, "/api/v1/transactions/{transactionId}", handler: read),
        ]
    }

    @Sendable func list(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = try AdminQuery(request, allowed: ["station", "status", "from", "to", "limit", "after"])
        let station = try query.string("station", maxLength: StationIdentity.maximumLength)
        let status = try query.choice("status", in: ["Active", "Completed"])
        let from = try query.time("from")
        let to = try query.time("to")
        let limit = try query.limit()
        let cursor = try query.cursor()
        let rows: PostgresQuery = """
            SELECT \(unescaped: TransactionJSON.object) AS item, json_build_array(t.id) AS key,
                   row_number() OVER (ORDER BY t.id DESC) AS n
            FROM ocpp.transactions AS t
            WHERE (\(station)::text IS NULL
                   OR t.station_id = (SELECT id FROM ocpp.stations WHERE identity = \(station)))
              AND (\(status)::text IS NULL OR t.status = \(status))
              AND (\(from)::timestamptz IS NULL OR t.started_at >= \(from))
              AND (\(to)::timestamptz IS NULL OR t.started_at < \(to))
              AND (\(cursor?.key)::jsonb IS NULL OR t.id < (\(cursor?.key)::jsonb->>0)::integer)
            ORDER BY t.id DESC
            LIMIT \(limit + 1)
            """
        return .json(
            try await PageQuery.run(rows, limit: limit, client: environment.client, logger: environment.logger))
    }

    @Sendable func read(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try AdminQuery(request, allowed: [])
        let id = try Self.transactionID(context)
        let transaction = try await environment.json(
            "SELECT \(unescaped: TransactionJSON.object)::text FROM ocpp.transactions AS t WHERE t.id = \(id)")
        guard let transaction else { throw AdminError.notFound("no transaction \(id)") }
        return .json(transaction)
    }

    /// The `{transactionId}` path parameter: OCPP transaction ids are 32-bit integers.
    static func transactionID(_ context: BasicRequestContext) throws -> Int32 {
        let text = try context.pathParameter("transactionId")
        guard let id = Int32(text) else {
            throw AdminError.badRequest("a transaction id is a 32-bit integer", field: "transactionId")
        }
        return id
    }
}
