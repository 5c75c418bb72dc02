import Foundation
import Hummingbird
import OCPP
import PostgresNIO
import Shared

/// Id tags the gateways authorize against: create, read, list, block and unblock.
/// Gateways cache answers for a short while (docs/GATEWAY.md), so a block reaches
/// every station within that time.
struct IdTagRoutes {
    let environment: AdminEnvironment

    var routes: [AdminRoute] {
        [
            AdminRoute(.get, "/api/v1/id-tags", handler: list),
            AdminRoute(.post, "/api/v1/id-tags", handler: create),
            AdminRoute(.get, "/api/v1/id-tags/{idTag}", handler: read),
            AdminRoute(.post, "/api/v1/id-tags/{idTag}/block", handler: block),
            AdminRoute(.post, "/api/v1/id-tags/{idTag}/unblock", handler: unblock),
        ]
    }

    static let statuses = ["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"]
    /// IdToken is CiString20 in OCPP 1.6.
    static let maximumLength = 20

    static let object = """
        json_build_object(
            'idTag', i.id_tag, 'status', i.status, 'expiryDate', i.expiry_date, 'parentIdTag', i.parent_id_tag,
            'createdAt', i.created_at, 'updatedAt', i.updated_at)
        """

    @Sendable func list(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = try AdminQuery(request, allowed: ["status", "limit", "after"])
        let status = try query.choice("status", in: Self.statuses)
        let limit = try query.limit()
        let cursor = try query.cursor()
        let rows: PostgresQuery = """
            SELECT \(unescaped: Self.object) AS item, json_build_array(i.id_tag) AS key,
                   row_number() OVER (ORDER BY i.id_tag) AS n
            FROM ocpp.id_tags AS i
            WHERE (\(status)::text IS NULL OR i.status = \(status))
              AND (\(cursor?.key)::jsonb IS NULL OR i.id_tag > \(cursor?.key)::jsonb->>0)
            ORDER BY i.id_tag
            LIMIT \(limit + 1)
            """
        return .json(
            try await PageQuery.run(rows, limit: limit, client: environment.client, logger: environment.logger))
    }

    @Sendable func create(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await AdminBody(request, allowed: ["idTag", "status", "expiryDate", "parentIdTag"])
        let idTag = try body.requiredString("idTag", maxLength: Self.maximumLength)
        let status = try body.choice("status", in: Self.statuses) ?? "Accepted"
        let expiry = try body.time("expiryDate")
        let parent = try body.string("parentIdTag", maxLength: Self.maximumLength)
        let created = try await environment.json(
            """
            WITH inserted AS (
                INSERT INTO ocpp.id_tags (id_tag, status, expiry_date, parent_id_tag)
                VALUES (\(idTag), \(status), \(expiry), \(parent))
                ON CONFLICT (id_tag) DO NOTHING
                RETURNING *
            )
            SELECT \(unescaped: Self.object)::text FROM inserted AS i
            """)
        guard let created else { throw AdminError.conflict("id tag \(idTag) already exists") }
        return .json(created, status: .created)
    }

    @Sendable func read(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try AdminQuery(request, allowed: [])
        let idTag = try context.pathParameter("idTag")
        let tag = try await environment.json(
            "SELECT \(unescaped: Self.object)::text FROM ocpp.id_tags AS i WHERE i.id_tag = \(idTag)")
        guard let tag else { throw AdminError.notFound("no id tag \(idTag)") }
        return .json(tag)
    }

    @Sendable func block(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try await setStatus("Blocked", request, context)
    }

    @Sendable func unblock(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try await setStatus("Accepted", request, context)
    }

    private func setStatus(
        _ status: String, _ request: Request, _ context: BasicRequestContext
    ) async throws
        -> Response
    {
        _ = try AdminQuery(request, allowed: [])
        let idTag = try context.pathParameter("idTag")
        let tag = try await environment.json(
            """
            WITH updated AS (
                UPDATE ocpp.id_tags SET status = \(status), updated_at = now() WHERE id_tag = \(idTag) RETURNING *
            )
            SELECT \(unescaped: Self.object)::text FROM updated AS i
            """)
        guard let tag else { throw AdminError.notFound("no id tag \(idTag)") }
        return .json(tag)
    }
}
