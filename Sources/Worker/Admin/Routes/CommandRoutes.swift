import Foundation
import Hummingbird
import OCPP
import PostgresNIO
import Shared

/// Queued commands: enqueue for a station (validated like every outbound CALL),
/// list by station and status, read one, cancel one that has not been sent.
struct CommandRoutes {
    let environment: AdminEnvironment

    var routes: [AdminRoute] {
        [
            AdminRoute(.post, "/api/v1/stations/{identity}/commands", handler: enqueue),
            AdminRoute(.get, "/api/v1/commands", handler: list),
            AdminRoute(.get, "/api/v1/commands/{messageId}", handler: read),
            AdminRoute(.delete, "/api/v1/commands/{messageId}", handler: cancel),
        ]
    }

    /// OCPP message ids have at most 36 characters (the queue makes UUIDs).
    static let messageIDMaximumLength = 36

    static let statuses = [
        "pending", "sent", "answered", "failed", "timed_out", "expired", "cancelled", "replaced",
    ]

    @Sendable func enqueue(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let identity = try context.pathParameter("identity")
        let body = try await AdminBody(
            request, allowed: ["action", "payload", "collapseKey", "expiresAt", "notBefore"])
        let command = try Self.command(from: body)
        let collapseKey = try body.string("collapseKey", maxLength: 255)
        let expiresAt = try body.time("expiresAt")
        let notBefore = try body.time("notBefore")
        if let expiresAt, expiresAt <= notBefore ?? Date() {
            throw AdminError.badRequest(
                "expiresAt must be later than notBefore (than now, without notBefore)", field: "expiresAt")
        }
        let messageID: String
        do {
            messageID = try await environment.queue.enqueue(
                command, to: identity, collapseKey: collapseKey, expiresAt: expiresAt, notBefore: notBefore)
        } catch CommandQueueError.unknownStation {
            throw AdminError.notFound("no station \(identity)")
        } catch CommandQueueError.refused(let reason) {
            throw AdminError.badRequest(reason)
        } catch CommandQueueError.tooManyPending(let reason) {
            throw AdminError(status: .tooManyRequests, code: "too_many_pending", message: reason)
        }
        return .json(try await commandJSON(messageID) ?? "null", status: .created)
    }

    /// The typed, validated command; an invalid payload is a 422 naming the field.
    static func command(from body: AdminBody) throws(AdminError) -> OutboundCommand {
        let action = try body.requiredString("action", maxLength: 64)
        let payload = try body.object("payload") ?? JSONObject()
        do {
            return try OutboundCommand(action: action, payload: payload)
        } catch .invalidPayload(let error) {
            throw AdminError(
                status: .unprocessableContent, code: "invalid_payload",
                message: "\(action) payload: \(error.code.rawValue): \(error.reason)",
                field: error.path.isRoot ? "payload" : "payload.\(error.path)")
        } catch {
            throw .badRequest("\(error)", field: "action")
        }
    }

    @Sendable func list(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = try AdminQuery(request, allowed: ["station", "status", "action", "limit", "after"])
        let station = try query.string("station", maxLength: StationIdentity.maximumLength)
        let status = try query.choice("status", in: Self.statuses)
        let action = try query.string("action", maxLength: 64)
        let limit = try query.limit()
        let cursor = try query.cursor()
        let rows: PostgresQuery = """
            SELECT \(unescaped: CommandJSON.object) AS item, json_build_array(m.id) AS key,
                   row_number() OVER (ORDER BY m.id DESC) AS n
            FROM ocpp.station_messages AS m
            WHERE (\(station)::text IS NULL
                   OR m.station_id = (SELECT id FROM ocpp.stations WHERE identity = \(station)))
              AND (\(status)::text IS NULL OR m.status = \(status))
              AND (\(action)::text IS NULL OR m.action = \(action))
              AND (\(cursor?.key)::jsonb IS NULL OR m.id < (\(cursor?.key)::jsonb->>0)::bigint)
            ORDER BY m.id DESC
            LIMIT \(limit + 1)
            """
        return .json(
            try await PageQuery.run(rows, limit: limit, client: environment.client, logger: environment.logger))
    }

    @Sendable func read(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try AdminQuery(request, allowed: [])
        let messageID = try context.pathParameter("messageId")
        guard let command = try await commandJSON(messageID) else {
            throw AdminError.notFound("no command \(messageID)")
        }
        return .json(command)
    }

    /// Cancels a pending command; one that has been sent or has ended is a 409 with
    /// its status.
    @Sendable func cancel(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try AdminQuery(request, allowed: [])
        let messageID = try context.pathParameter("messageId")
        let cancelled = try await environment.queue.cancel(messageID: messageID)
        guard let command = try await commandJSON(messageID) else {
            throw AdminError.notFound("no command \(messageID)")
        }
        guard cancelled else {
            throw AdminError.conflict("command \(messageID) is no longer pending and cannot be cancelled")
        }
        return .json(command)
    }

    private func commandJSON(_ messageID: String) async throws -> String? {
        try await environment.json(
            "SELECT \(unescaped: CommandJSON.object)::text FROM ocpp.station_messages AS m WHERE m.message_id = \(messageID)"
        )
    }
}
