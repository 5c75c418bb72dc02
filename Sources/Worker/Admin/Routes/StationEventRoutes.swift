import Hummingbird
import OCPP
import PostgresNIO
import Shared

/// What a station reported that is kept as sent: DataTransfer, diagnostics,
/// firmware and log status, security events, certificate signing requests and stops
/// of unknown transactions (`ocpp.station_events`), newest first.
struct StationEventRoutes {
    let environment: AdminEnvironment

    var routes: [AdminRoute] {
        [AdminRoute(.get, "/api/v1/stations/{identity}/events", handler: list)]
    }

    @Sendable func list(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = try AdminQuery(request, allowed: ["action", "from", "to", "limit", "after"])
        let action = try query.string("action", maxLength: 64)
        let from = try query.time("from")
        let to = try query.time("to")
        let limit = try query.limit()
        let cursor = try query.cursor()
        let identity = try context.pathParameter("identity")
        let stationID = try await environment.stationID(identity)
        let rows: PostgresQuery = """
            SELECT json_build_object(
                       'id', e.id, 'action', e.action, 'payload', e.payload, 'response', e.response,
                       'stationTime', e.station_time, 'receivedAt', e.received_at, 'detail', e.detail) AS item,
                   json_build_array(e.id) AS key,
                   row_number() OVER (ORDER BY e.id DESC) AS n
            FROM ocpp.station_events AS e
            WHERE e.station_id = \(stationID)
              AND (\(action)::text IS NULL OR e.action = \(action))
              AND (\(from)::timestamptz IS NULL OR e.received_at >= \(from))
              AND (\(to)::timestamptz IS NULL OR e.received_at < \(to))
              AND (\(cursor?.key)::jsonb IS NULL OR e.id < (\(cursor?.key)::jsonb->>0)::bigint)
            ORDER BY e.id DESC
            LIMIT \(limit + 1)
            """
        return .json(
            try await PageQuery.run(rows, limit: limit, client: environment.client, logger: environment.logger))
    }
}
