import Hummingbird
import OCPP
import PostgresNIO
import Shared

/// The certificates the worker's CA issued to a station in answer to its
/// SignCertificate requests (`ocpp.issued_certificates`), newest first.
struct CertificateRoutes {
    let environment: AdminEnvironment

    var routes: [AdminRoute] {
        [AdminRoute(.get, "/api/v1/stations/{identity}/certificates", handler: list)]
    }

    @Sendable func list(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = try AdminQuery(request, allowed: ["limit", "after"])
        let limit = try query.limit()
        let cursor = try query.cursor()
        let identity = try context.pathParameter("identity")
        let stationID = try await environment.stationID(identity)
        let rows: PostgresQuery = """
            SELECT json_build_object(
                       'serialNumber', c.serial_number, 'subject', c.subject, 'notBefore', c.not_before,
                       'notAfter', c.not_after, 'sha256Fingerprint', c.sha256_fingerprint, 'issuedAt', c.issued_at,
                       'messageId', c.message_id, 'pem', c.pem) AS item,
                   json_build_array(c.id) AS key,
                   row_number() OVER (ORDER BY c.id DESC) AS n
            FROM ocpp.issued_certificates AS c
            WHERE c.station_id = \(stationID)
              AND (\(cursor?.key)::jsonb IS NULL OR c.id < (\(cursor?.key)::jsonb->>0)::bigint)
            ORDER BY c.id DESC
            LIMIT \(limit + 1)
            """
        return .json(
            try await PageQuery.run(rows, limit: limit, client: environment.client, logger: environment.logger))
    }
}
