import Foundation
import HTTPTypes
import Hummingbird
import OCPP
import PostgresNIO
import Shared

/// Id tags: list (search, status filter, keyset-paged), create with expiry and
/// parent tag, block and unblock. Input is read with the admin API's own rules
/// (``AdminBody`` and the limits of ``IdTagRoutes``).
extension Console {
    func registerIdTags(on router: Router<BasicRequestContext>) {
        router.get("/id-tags", use: page(idTagList))
        router.post("/id-tags", use: page(createIdTag))
        router.post("/id-tags/update", use: page(updateIdTag))
        router.post("/id-tags/block", use: page(blockIdTag))
        router.post("/id-tags/unblock", use: page(unblockIdTag))
    }

    @Sendable func idTagList(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    )
        async throws -> Response
    {
        try await renderIdTags(
            form: form, created: ConsoleForm(query: request)["created"], errors: [:], session: session)
    }

    func renderIdTags(
        form: ConsoleForm, created: String?, errors: [String: String], session: ConsoleSessions.Session,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let query = ConsoleForm(values: form.values)
        let search = query["q"].map { String($0.prefix(IdTagRoutes.maximumLength)) }
        let statusFilter = query["status"].flatMap { IdTagRoutes.statuses.contains($0) ? $0 : nil }
        let after = query["after"].map { String($0.prefix(IdTagRoutes.maximumLength)) }
        var tags = ConsoleValue.parseArray(
            try await json(
                """
                SELECT coalesce(json_agg(json_build_object(
                    'idTag', i.id_tag, 'status', i.status, 'blocked', i.status = 'Blocked',
                    'expiry', \(unescaped: ConsoleSQL.time("i.expiry_date")), 'expired', i.expiry_date < now(),
                    'expiryInput', to_char(i.expiry_date, 'YYYY-MM-DD"T"HH24:MI'),
                    'parent', i.parent_id_tag, 'updated', \(unescaped: ConsoleSQL.time("i.updated_at")))
                    ORDER BY i.id_tag), '[]')::text
                FROM (SELECT * FROM ocpp.id_tags
                      WHERE (\(search)::text IS NULL OR (id_tag >= \(search) AND id_tag < \(search) || chr(1114111)
                                                         AND left(id_tag, length(\(search))) = \(search)))
                        AND (\(statusFilter)::text IS NULL OR status = \(statusFilter))
                        AND (\(after)::text IS NULL OR id_tag > \(after))
                      ORDER BY id_tag LIMIT \(Self.pageSize + 1)) AS i
                """))
        let more = tags.count > Self.pageSize
        if more { tags.removeLast() }
        var data: [String: Any] = [
            "tags": tags, "search": search ?? "",
            "statusOptions": IdTagRoutes.statuses.map { ["value": $0, "selected": $0 == statusFilter] },
            "newStatusOptions": IdTagRoutes.statuses.map {
                ["value": $0, "selected": $0 == (form["newStatus"] ?? "Accepted")]
            },
            "newIdTag": form["idTag"] ?? "", "newExpiry": form["expiryDate"] ?? "",
            "newParent": form["parentIdTag"] ?? "",
        ]
        for (field, message) in errors { data["error_" + field] = message }
        if let updated = form["updated"] { data["updated"] = updated }
        if let created { data["created"] = created }
        if more, let last = tags.last as? [String: Any], let tag = last["idTag"] as? String {
            var parts: [String] = []
            if let search { parts.append("q=\(Self.urlEncoded(search))") }
            if let statusFilter { parts.append("status=\(statusFilter)") }
            data["next"] = "/id-tags?" + (parts + ["after=\(Self.urlEncoded(tag))"]).joined(separator: "&")
        }
        return .html(pages.render("id-tags", title: "Id tags", data: data, session: session), status: status)
    }

    @Sendable func createIdTag(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    )
        async throws -> Response
    {
        var body = JSONObject()
        for (field, name) in [("idTag", "idTag"), ("status", "newStatus"), ("parentIdTag", "parentIdTag")] {
            if let value = form[name] { body.members.append((field, .string(value))) }
        }
        if let text = form["expiryDate"] {
            body.members.append(("expiryDate", .string(ConsoleForm.time(text).map(RFC3339.format) ?? text)))
        }
        let idTag: String
        do {
            let read = try await Self.adminBody(body, allowed: ["idTag", "status", "expiryDate", "parentIdTag"])
            idTag = try read.requiredString("idTag", maxLength: IdTagRoutes.maximumLength)
            let status = try read.choice("status", in: IdTagRoutes.statuses) ?? "Accepted"
            let expiry = try read.time("expiryDate")
            let parent = try read.string("parentIdTag", maxLength: IdTagRoutes.maximumLength)
            let created = try await json(
                """
                INSERT INTO ocpp.id_tags (id_tag, status, expiry_date, parent_id_tag)
                VALUES (\(idTag), \(status), \(expiry), \(parent))
                ON CONFLICT DO NOTHING
                RETURNING id_tag
                """)
            guard created != nil else { throw AdminError.badRequest("Id tag \(idTag) already exists.", field: "idTag") }
        } catch let error as AdminError {
            return try await renderIdTags(
                form: form, created: nil, errors: [error.field ?? "idTag": error.message], session: session,
                status: .unprocessableContent)
        }
        return .seeOther("/id-tags?created=\(Self.urlEncoded(idTag))")
    }

    /// Sets an existing tag's expiry and parent (an empty field clears it), read with
    /// the same rules as a new tag's.
    @Sendable func updateIdTag(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    )
        async throws -> Response
    {
        guard let idTag = form["idTag"] else { throw AdminError.notFound("There is no such id tag.") }
        var body = JSONObject()
        if let parent = form["parentIdTag"] { body.members.append(("parentIdTag", .string(parent))) }
        if let text = form["expiryDate"] {
            body.members.append(("expiryDate", .string(ConsoleForm.time(text).map(RFC3339.format) ?? text)))
        }
        do {
            let read = try await Self.adminBody(body, allowed: ["expiryDate", "parentIdTag"])
            let expiry = try read.time("expiryDate")
            let parent = try read.string("parentIdTag", maxLength: IdTagRoutes.maximumLength)
            let updated = try await json(
                """
                UPDATE ocpp.id_tags SET expiry_date = \(expiry), parent_id_tag = \(parent), updated_at = now()
                WHERE id_tag = \(idTag) RETURNING id_tag
                """)
            guard updated != nil else { throw AdminError.notFound("There is no id tag \(idTag).") }
        } catch let error as AdminError where error.status == .badRequest {
            return try await renderIdTags(
                form: ConsoleForm(values: ["q": idTag]), created: nil,
                errors: ["edit": "\(idTag): \(error.message)"], session: session, status: .unprocessableContent)
        }
        return .seeOther("/id-tags?q=\(Self.urlEncoded(idTag))&updated=\(Self.urlEncoded(idTag))")
    }

    @Sendable func blockIdTag(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    )
        async throws -> Response
    {
        try await setIdTagStatus("Blocked", form["idTag"])
    }

    @Sendable func unblockIdTag(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    )
        async throws -> Response
    {
        try await setIdTagStatus("Accepted", form["idTag"])
    }

    /// Blocks or unblocks the tag named by the form's `idTag` field (a field, not a
    /// path, so any tag text goes through unchanged).
    private func setIdTagStatus(_ status: String, _ idTag: String?) async throws -> Response {
        guard let idTag else { throw AdminError.notFound("There is no such id tag.") }
        let updated = try await json(
            "UPDATE ocpp.id_tags SET status = \(status), updated_at = now() WHERE id_tag = \(idTag) RETURNING id_tag")
        guard updated != nil else { throw AdminError.notFound("There is no id tag \(idTag).") }
        return .seeOther("/id-tags?q=\(Self.urlEncoded(idTag))")
    }

    /// A JSON object read as the admin API reads a request body.
    static func adminBody(_ object: JSONObject, allowed: Set<String>) async throws -> AdminBody {
        var writer = JSONWriter()
        writer.value(.object(object))
        let request = Request(
            head: HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/"),
            body: RequestBody(buffer: ByteBuffer(string: writer.string)))
        return try await AdminBody(request, allowed: allowed)
    }
}
