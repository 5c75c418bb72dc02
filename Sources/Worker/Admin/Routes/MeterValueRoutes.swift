import Foundation
import Hummingbird
import OCPP
import PostgresNIO
import Shared

/// Meter values of a station or of a transaction: raw samples, or hourly figures
/// (min, max, average, last, energy delta) — from the rollup for a station, computed
/// from the transaction's own samples for a transaction. Oldest first, paginated.
struct MeterValueRoutes {
    let environment: AdminEnvironment

    var routes: [AdminRoute] {
        [
            AdminRoute(.get, "/api/v1/stations/{identity}/meter-values", handler: ofStation),
            AdminRoute(.get, "/api/v1/transactions/{transactionId}/meter-values", handler: ofTransaction),
        ]
    }

    /// What a request asks for, apart from whose values.
    struct Selection {
        var resolution: String
        var from: Date?
        var to: Date?
        var measurand: String?
        var connectorID: Int?
        var limit: Int
        var cursor: PageCursor?

        init(_ request: Request) throws(AdminError) {
            let query = try AdminQuery(
                request, allowed: ["resolution", "from", "to", "measurand", "connectorId", "limit", "after"])
            resolution = try query.choice("resolution", in: ["raw", "hourly"]) ?? "raw"
            from = try query.time("from")
            to = try query.time("to")
            measurand = try query.string("measurand", maxLength: 64)
            connectorID = try query.integer("connectorId", range: 0...Int(Int32.max))
            limit = try query.limit()
            cursor = try query.cursor()
        }
    }

    @Sendable func ofStation(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let selection = try Selection(request)
        let identity = try context.pathParameter("identity")
        let stationID = try await environment.stationID(identity)
        return .json(try await page(selection, stationID: stationID, transactionID: nil))
    }

    @Sendable func ofTransaction(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let selection = try Selection(request)
        let transactionID = try TransactionRoutes.transactionID(context)
        let found = try await environment.json(
            "SELECT station_id::text FROM ocpp.transactions WHERE id = \(transactionID)")
        guard let stationID = found.flatMap(Int64.init) else {
            throw AdminError.notFound("no transaction \(transactionID)")
        }
        return .json(try await page(selection, stationID: stationID, transactionID: transactionID))
    }

    private func page(_ selection: Selection, stationID: Int64, transactionID: Int32?) async throws -> String {
        let rows =
            selection.resolution == "hourly"
            ? Self.hourly(selection, stationID: stationID, transactionID: transactionID)
            : Self.raw(selection, stationID: stationID, transactionID: transactionID)
        return try await PageQuery.run(
            rows, limit: selection.limit, client: environment.client, logger: environment.logger)
    }

    static func raw(_ selection: Selection, stationID: Int64, transactionID: Int32?) -> PostgresQuery {
        let cursor = selection.cursor?.key
        return """
            SELECT json_build_object(
                       'sampledAt', m.sampled_at, 'connectorId', m.connector_id, 'transactionId', m.transaction_id,
                       'measurand', m.measurand, 'phase', nullif(m.phase, ''), 'location', m.location,
                       'unit', m.unit, 'context', m.context, 'format', m.format, 'value', m.value,
                       'rawValue', m.raw_value) AS item,
                   json_build_array(m.sampled_at, m.connector_id, m.measurand, m.phase, m.location, m.context) AS key,
                   row_number() OVER (
                       ORDER BY m.sampled_at, m.connector_id, m.measurand, m.phase, m.location, m.context) AS n
            FROM ocpp.meter_values AS m
            WHERE m.station_id = \(stationID)
              AND (\(transactionID)::integer IS NULL OR m.transaction_id = \(transactionID))
              AND (\(selection.from)::timestamptz IS NULL OR m.sampled_at >= \(selection.from))
              AND (\(selection.to)::timestamptz IS NULL OR m.sampled_at < \(selection.to))
              AND (\(selection.measurand)::text IS NULL OR m.measurand = \(selection.measurand))
              AND (\(selection.connectorID)::integer IS NULL OR m.connector_id = \(selection.connectorID))
              AND (\(cursor)::jsonb IS NULL
                   OR (m.sampled_at, m.connector_id, m.measurand, m.phase, m.location, m.context)
                      > ((\(cursor)::jsonb->>0)::timestamptz, (\(cursor)::jsonb->>1)::integer, \(cursor)::jsonb->>2,
                         \(cursor)::jsonb->>3, \(cursor)::jsonb->>4, \(cursor)::jsonb->>5))
            ORDER BY m.sampled_at, m.connector_id, m.measurand, m.phase, m.location, m.context
            LIMIT \(selection.limit + 1)
            """
    }

    /// Hourly figures: a station's come from the rollup the worker maintains (or the
    /// TimescaleDB continuous aggregate), a transaction's are computed from its own
    /// samples, since an hour can hold samples of several transactions.
    static func hourly(_ selection: Selection, stationID: Int64, transactionID: Int32?) -> PostgresQuery {
        let cursor = selection.cursor?.key
        return """
            SELECT json_build_object(
                       'bucket', h.bucket, 'connectorId', h.connector_id, 'measurand', h.measurand,
                       'phase', nullif(h.phase, ''), 'min', h.min_value, 'max', h.max_value, 'avg', h.avg_value,
                       'last', h.last_value, 'energyDelta', h.energy_delta, 'samples', h.sample_count) AS item,
                   json_build_array(h.bucket, h.connector_id, h.measurand, h.phase) AS key,
                   row_number() OVER (ORDER BY h.bucket, h.connector_id, h.measurand, h.phase) AS n
            FROM (
                SELECT bucket, connector_id, measurand, phase, min_value, max_value, avg_value, last_value,
                       energy_delta, sample_count
                FROM ocpp.meter_values_hourly
                WHERE \(transactionID)::integer IS NULL AND station_id = \(stationID)
                UNION ALL
                SELECT date_trunc('hour', sampled_at, 'UTC'), connector_id, measurand, phase, min(value), max(value),
                       avg(value), (array_agg(value ORDER BY sampled_at DESC))[1],
                       CASE WHEN measurand LIKE 'Energy.%.Register'
                            THEN (array_agg(value ORDER BY sampled_at DESC))[1]
                                 - (array_agg(value ORDER BY sampled_at))[1] END,
                       count(*)
                FROM ocpp.meter_values
                WHERE \(transactionID)::integer IS NOT NULL AND transaction_id = \(transactionID)
                  AND station_id = \(stationID) AND value IS NOT NULL
                GROUP BY 1, 2, 3, 4
            ) AS h
            WHERE (\(selection.from)::timestamptz IS NULL OR h.bucket >= date_trunc('hour', \(selection.from), 'UTC'))
              AND (\(selection.to)::timestamptz IS NULL OR h.bucket < \(selection.to))
              AND (\(selection.measurand)::text IS NULL OR h.measurand = \(selection.measurand))
              AND (\(selection.connectorID)::integer IS NULL OR h.connector_id = \(selection.connectorID))
              AND (\(cursor)::jsonb IS NULL
                   OR (h.bucket, h.connector_id, h.measurand, h.phase)
                      > ((\(cursor)::jsonb->>0)::timestamptz, (\(cursor)::jsonb->>1)::integer, \(cursor)::jsonb->>2,
                         \(cursor)::jsonb->>3))
            ORDER BY h.bucket, h.connector_id, h.measurand, h.phase
            LIMIT \(selection.limit + 1)
            """
    }
}
