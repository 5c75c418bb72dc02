import Foundation
import Hummingbird
import OCPP
import PostgresNIO
import Shared

/// Send a command: one form per command with the fields of its payload, checked by
/// the admin API's rules (errors next to the fields), then queued like any command;
/// below it, the commands sent with their status and answer.
extension Console {
    func registerCommands(on router: Router<BasicRequestContext>) {
        router.get("/commands", use: page(commandPage))
        router.post("/commands", use: page(sendCommand))
    }

    @Sendable func commandPage(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    )
        async throws -> Response
    {
        try await renderCommandPage(form: form, errors: [:], general: nil, session: session, status: .ok)
    }

    @Sendable func sendCommand(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    )
        async throws -> Response
    {
        guard let action = form["action"], ConsoleCommandForms.fields(of: action) != nil else {
            return try await renderCommandPage(
                form: form, errors: [:], general: "Choose a command.", session: session, status: .unprocessableContent)
        }
        guard let identity = form["station"] else {
            return try await renderCommandPage(
                form: form, errors: ["station": "Which station? Give its identity."], general: nil, session: session,
                status: .unprocessableContent)
        }
        let (payload, parseErrors) = ConsoleCommandForms.payload(action: action, form: form)
        guard parseErrors.isEmpty else {
            return try await renderCommandPage(
                form: form, errors: parseErrors, general: nil, session: session, status: .unprocessableContent)
        }
        let messageID: String
        do {
            let command = try await ConsoleCommandForms.validate(action: action, payload: payload)
            messageID = try await queue.enqueue(command, to: identity)
        } catch let error as AdminError {
            var errors: [String: String] = [:]
            var general: String?
            if let field = ConsoleCommandForms.formField(ofAPIField: error.field) {
                errors[field] = error.message
            } else {
                general = error.message
            }
            return try await renderCommandPage(
                form: form, errors: errors, general: general, session: session, status: .unprocessableContent)
        } catch CommandQueueError.unknownStation {
            return try await renderCommandPage(
                form: form, errors: ["station": "There is no station \(identity)."], general: nil, session: session,
                status: .unprocessableContent)
        } catch CommandQueueError.refused(let reason) {
            return try await renderCommandPage(
                form: form, errors: [:], general: reason, session: session, status: .unprocessableContent)
        } catch CommandQueueError.tooManyPending(let reason) {
            return try await renderCommandPage(
                form: form, errors: [:], general: reason, session: session, status: .tooManyRequests)
        }
        return .seeOther(
            "/commands?station=\(Self.urlEncoded(identity))&action=\(Self.urlEncoded(action))&sent=\(Self.urlEncoded(messageID))"
        )
    }

    func renderCommandPage(
        form: ConsoleForm, errors: [String: String], general: String?, session: ConsoleSessions.Session,
        status: HTTPResponse.Status
    ) async throws -> Response {
        let action =
            form["action"].flatMap { ConsoleCommandForms.fields(of: $0) != nil ? $0 : nil } ?? "ChangeAvailability"
        let station = form["station"]
        let fields: [[String: Any]] = (ConsoleCommandForms.fields(of: action) ?? []).map { field in
            let value = form["field." + field.name] ?? ""
            var item: [String: Any] = [
                "name": field.name, "required": field.required, "value": value, "is_" + field.kind.rawValue: true,
            ]
            if !field.hint.isEmpty { item["hint"] = field.hint }
            if field.kind == .choice {
                item["choices"] = field.choices.map { ["value": $0, "selected": $0 == value] }
            }
            if let error = errors[field.name] { item["error"] = error }
            return item
        }
        let history = ConsoleValue.parseArray(
            try await json(
                """
                SELECT coalesce(json_agg(json_build_object(
                    'messageId', m.message_id, 'identity', s.identity, 'action', m.action, 'status', m.status,
                    'created', \(unescaped: ConsoleSQL.time("m.created_at")),
                    'answered', \(unescaped: ConsoleSQL.time("m.answered_at")),
                    'payload', m.payload::text,
                    'answer', coalesce(m.response::text, CASE WHEN m.error_code IS NOT NULL
                                       THEN m.error_code || ': ' || coalesce(m.error_description, '') END))
                    ORDER BY m.id DESC), '[]')::text
                FROM (SELECT * FROM ocpp.station_messages
                      WHERE \(station)::text IS NULL
                         OR station_id = (SELECT id FROM ocpp.stations WHERE identity = \(station))
                      ORDER BY id DESC LIMIT 50) AS m
                JOIN ocpp.stations AS s ON s.id = m.station_id
                """))
        var data: [String: Any] = [
            "action": action, "fields": fields, "history": history,
            "actions": ConsoleCommandForms.commands.map { ["value": $0.action, "selected": $0.action == action] },
        ]
        if let station { data["station"] = station }
        if let error = errors["station"] { data["stationError"] = error }
        if let general { data["general"] = general }
        if let sent = form["sent"] { data["sent"] = sent }
        return .html(pages.render("commands", title: "Send a command", data: data, session: session), status: status)
    }
}
