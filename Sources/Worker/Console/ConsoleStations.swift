import Foundation
import Hummingbird
import OCPP
import PostgresNIO
import Shared

/// The fleet page (every station, filtered, searched, keyset-paged) and a station's
/// page with its message log, which downloads as JSON lines or CSV.
extension Console {
    static let pageSize = 50
    static let connectorStatuses = [
        "Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Reserved",
        "Unavailable", "Faulted",
    ]

    func registerStations(on router: Router<BasicRequestContext>) {
        router.get("/stations", use: page(fleet))
        router.get("/stations/{identity}", use: page(station))
        router.get("/stations/{identity}/messages", use: page(messageDownload))
    }

    @Sendable func fleet(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    ) async throws
        -> Response
    {
        let online: Bool? =
            switch form["online"] {
            case "online": true
            case "offline": false
            default: nil
            }
        let status = form["status"].flatMap { Self.connectorStatuses.contains($0) ? $0 : nil }
        let search = form["q"].map { String($0.prefix(StationIdentity.maximumLength)) }
        let after = form["after"].map { String($0.prefix(StationIdentity.maximumLength)) }
        // Keyset paging on the identity index; a search is a range on the same index
        // (identities are ASCII), rechecked exactly.
        let rows = try await json(
            """
            SELECT coalesce(json_agg(row ORDER BY identity), '[]')::text FROM (
                SELECT s.identity, \(unescaped: ConsoleSQL.stationState) AS row
                FROM ocpp.stations AS s
                WHERE (\(online)::boolean IS NULL OR s.online = \(online))
                  AND (\(status)::text IS NULL OR EXISTS (
                      SELECT 1 FROM ocpp.connectors AS c
                      WHERE c.station_id = s.id AND c.connector_id > 0 AND c.status = \(status)))
                  AND (\(search)::text IS NULL OR (s.identity >= \(search) AND s.identity < \(search) || chr(1114111)
                                                   AND left(s.identity, length(\(search))) = \(search)))
                  AND (\(after)::text IS NULL OR s.identity > \(after))
                ORDER BY s.identity
                LIMIT \(Self.pageSize + 1)
            ) AS page
            """)
        var stations = ConsoleValue.parseArray(rows)
        let more = stations.count > Self.pageSize
        if more { stations.removeLast() }
        let counts = ConsoleValue.parse(try await json("\(unescaped: ConsoleSQL.fleetCounts)"))
        var query: [String] = []
        if let value = form["online"] { query.append("online=\(Self.urlEncoded(value))") }
        if let status { query.append("status=\(Self.urlEncoded(status))") }
        if let search { query.append("q=\(Self.urlEncoded(search))") }
        var data: [String: Any] = [
            "stations": stations, "counts": counts, "search": search ?? "",
            "ids": stations.compactMap { ($0 as? [String: Any])?["id"].map { "\($0)" } }.joined(separator: ","),
            "statusOptions": Self.connectorStatuses.map { ["value": $0, "selected": $0 == status] },
            "onlineSelected": online == true, "offlineSelected": online == false,
        ]
        if more, let last = stations.last as? [String: Any], let identity = last["identity"] as? String {
            data["next"] = "/stations?" + (query + ["after=\(Self.urlEncoded(identity))"]).joined(separator: "&")
        }
        // What the page's script needs to tell whether a changed station that is not
        // on the page would be on it (the filter and the page's identity range).
        data["filterOnline"] = online.map { $0 ? "online" : "offline" } ?? ""
        data["filterStatus"] = status ?? ""
        data["filterAfter"] = after ?? ""
        data["filterLast"] = more ? ((stations.last as? [String: Any])?["identity"] as? String ?? "") : ""
        if after != nil { data["first"] = "/stations" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")) }
        return .html(pages.render("fleet", title: "Fleet", data: data, session: session))
    }

    /// The message log's filters, as the station page's form and the download read them.
    struct MessageFilter {
        var action: String?
        var direction: String?
        var from: Date?
        var to: Date?

        init(_ form: ConsoleForm) {
            action = form["action"].map { String($0.prefix(64)) }
            direction = form["direction"].flatMap { ["in", "out"].contains($0) ? $0 : nil }
            from = ConsoleForm.time(form["from"])
            to = ConsoleForm.time(form["to"])
        }

        var query: String {
            var parts: [String] = []
            if let action { parts.append("action=\(Console.urlEncoded(action))") }
            if let direction { parts.append("direction=\(direction)") }
            if let from { parts.append("from=\(Console.urlEncoded(RFC3339.format(from)))") }
            if let to { parts.append("to=\(Console.urlEncoded(RFC3339.format(to)))") }
            return parts.joined(separator: "&")
        }
    }

    /// The station's OCPP messages both ways, newest first: CALLs it sent (the journal,
    /// with the answer it was given) and commands sent to it (with its answer).
    func messages(station: Int64, filter: MessageFilter, limit: Int) async throws -> [Any] {
        ConsoleValue.parseArray(
            try await json(
                """
                SELECT coalesce(json_agg(json_build_object(
                    'time', \(unescaped: ConsoleSQL.time("at")) || '.' || to_char(at, 'MS'), 'at', at,
                    'direction', direction, 'incoming', direction = 'in', 'action', action, 'messageId', message_id,
                    'payload', payload, 'answer', answer, 'status', status) ORDER BY at DESC), '[]')::text
                FROM (
                    (SELECT i.received_at AS at, 'in' AS direction, i.action, i.message_id, i.payload::text AS payload,
                            i.response::text AS answer, NULL::text AS status
                     FROM ocpp.inbox AS i
                     WHERE i.station_id = \(station) AND i.kind = 'call'
                       AND (\(filter.direction)::text IS NULL OR \(filter.direction) = 'in')
                       AND (\(filter.action)::text IS NULL OR i.action = \(filter.action))
                       AND (\(filter.from)::timestamptz IS NULL OR i.received_at >= \(filter.from))
                       AND (\(filter.to)::timestamptz IS NULL OR i.received_at < \(filter.to))
                     ORDER BY i.received_at DESC LIMIT \(limit))
                    UNION ALL
                    (SELECT m.created_at, 'out', m.action, m.message_id, m.payload::text,
                            coalesce(m.response::text,
                                     CASE WHEN m.error_code IS NOT NULL
                                          THEN json_build_array(m.error_code, m.error_description)::text END),
                            m.status
                     FROM ocpp.station_messages AS m
                     WHERE m.station_id = \(station)
                       AND (\(filter.direction)::text IS NULL OR \(filter.direction) = 'out')
                       AND (\(filter.action)::text IS NULL OR m.action = \(filter.action))
                       AND (\(filter.from)::timestamptz IS NULL OR m.created_at >= \(filter.from))
                       AND (\(filter.to)::timestamptz IS NULL OR m.created_at < \(filter.to))
                     ORDER BY m.created_at DESC LIMIT \(limit))
                    ORDER BY at DESC LIMIT \(limit)
                ) AS log
                """))
    }

    func stationID(_ identity: String) async throws -> Int64 {
        guard
            let id = try await json("SELECT id::text FROM ocpp.stations WHERE identity = \(identity)").flatMap(
                Int64.init)
        else { throw AdminError.notFound("There is no station \(identity).") }
        return id
    }

    @Sendable func station(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    ) async throws
        -> Response
    {
        let identity =
            try request.uri.path.split(separator: "/").dropFirst().first.map { String($0) }
            .flatMap { $0.removingPercentEncoding } ?? { throw AdminError.notFound("no station") }()
        let id = try await stationID(identity)
        var data = ConsoleValue.parse(
            try await json(
                """
                SELECT json_build_object(
                    'station', \(unescaped: ConsoleSQL.stationState),
                    'boot', json_build_object('vendor', s.vendor, 'model', s.model, 'firmware', s.firmware_version,
                                              'serial', s.charge_box_serial_number,
                                              'lastBoot', \(unescaped: ConsoleSQL.time("s.last_boot_at")),
                                              'connectedAt', \(unescaped: ConsoleSQL.time("s.connected_at")),
                                              'gateway', s.session_gateway_id),
                    'transactions', (SELECT json_agg(json_build_object(
                            'id', t.id, 'connectorId', t.connector_id, 'idTag', t.id_tag, 'meterStart', t.meter_start,
                            'startedAt', \(unescaped: ConsoleSQL.time("t.started_at"))) ORDER BY t.id)
                        FROM ocpp.transactions AS t WHERE t.station_id = s.id AND t.status = 'Active'),
                    'configuration', (SELECT json_agg(json_build_object('key', k.key, 'value', k.value,
                            'readonly', k.readonly, 'updatedAt', \(unescaped: ConsoleSQL.time("k.updated_at"))) ORDER BY k.key)
                        FROM ocpp.station_configuration AS k WHERE k.station_id = s.id),
                    'reservations', (SELECT json_agg(json_build_object('reservationId', r.reservation_id,
                            'connectorId', r.connector_id, 'idTag', r.id_tag, 'status', r.status,
                            'expiry', \(unescaped: ConsoleSQL.time("r.expiry_date"))) ORDER BY r.reservation_id DESC)
                        FROM ocpp.reservations AS r WHERE r.station_id = s.id AND r.expiry_date > now() - interval '1 day'),
                    'events', (SELECT json_agg(json_build_object('time', \(unescaped: ConsoleSQL.time("e.at")),
                            'action', e.action, 'payload', e.payload) ORDER BY e.at DESC)
                        FROM ((SELECT received_at AS at, action, payload::text AS payload FROM ocpp.station_events
                               WHERE station_id = s.id ORDER BY received_at DESC LIMIT 20)
                              UNION ALL
                              (SELECT status_at, 'StatusNotification', json_build_object(
                                          'connectorId', connector_id, 'status', status, 'errorCode', error_code,
                                          'info', info, 'vendorErrorCode', vendor_error_code)::text
                               FROM ocpp.status_events WHERE station_id = s.id ORDER BY status_at DESC LIMIT 20)
                              ORDER BY at DESC LIMIT 20) AS e)
                )::text
                FROM ocpp.stations AS s WHERE s.id = \(id)
                """))
        if try await tableExists("ocpp.issued_certificates") {
            data["certificatesKnown"] = true
            data["certificates"] = ConsoleValue.parseArray(
                try await json(
                    """
                    SELECT json_agg(json_build_object('serial', c.serial_number, 'subject', c.subject,
                        'notAfter', \(unescaped: ConsoleSQL.time("c.not_after")),
                        'issuedAt', \(unescaped: ConsoleSQL.time("c.issued_at"))) ORDER BY c.id DESC)::text
                    FROM (SELECT * FROM ocpp.issued_certificates WHERE station_id = \(id) ORDER BY id DESC LIMIT 20) AS c
                    """))
        }
        let filter = MessageFilter(form)
        data["messages"] = try await messages(station: id, filter: filter, limit: 100)
        data["filterAction"] = filter.action ?? ""
        data["filterFrom"] = form["from"] ?? ""
        data["filterTo"] = form["to"] ?? ""
        data["directionIn"] = filter.direction == "in"
        data["directionOut"] = filter.direction == "out"
        let base = "/stations/\(Self.urlEncoded(identity))/messages?"
        data["downloadCSV"] = base + ([filter.query, "format=csv"].filter { !$0.isEmpty }.joined(separator: "&"))
        data["downloadJSONL"] = base + ([filter.query, "format=jsonl"].filter { !$0.isEmpty }.joined(separator: "&"))
        data["identity"] = identity
        data["identityURL"] = Self.urlEncoded(identity)
        data["id"] = "\(id)"
        return .html(pages.render("station", title: identity, data: data, session: session))
    }

    /// The filtered message log as a file: up to 10,000 messages, newest first.
    @Sendable func messageDownload(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    )
        async throws -> Response
    {
        let parts = request.uri.path.split(separator: "/")
        guard parts.count == 3, let identity = String(parts[1]).removingPercentEncoding else {
            throw AdminError.notFound("no such station")
        }
        let id = try await stationID(identity)
        let rows = try await messages(station: id, filter: MessageFilter(form), limit: 10_000)
        let items = rows.compactMap { $0 as? [String: Any] }
        if form["format"] == "jsonl" {
            var text = ""
            for item in items {
                var writer = JSONWriter()
                writer.beginObject()
                for key in ["at", "direction", "action", "messageId", "status"] {
                    writer.key(key)
                    if let value = item[key] as? String { writer.string(value) } else { writer.null() }
                }
                for key in ["payload", "answer"] {
                    writer.key(key)
                    if let value = item[key] as? String, let parsed = try? JSONParser.parse(value) {
                        writer.value(parsed)
                    } else {
                        writer.null()
                    }
                }
                writer.endObject()
                text += writer.string + "\n"
            }
            return .download(text, contentType: "application/x-ndjson", filename: "\(identity)-messages.jsonl")
        }
        var text = ConsoleCSV.row(["time", "direction", "action", "message_id", "status", "payload", "answer"])
        for item in items {
            text += ConsoleCSV.row(
                ["at", "direction", "action", "messageId", "status", "payload", "answer"].map { item[$0] as? String })
        }
        return .download(text, contentType: "text/csv; charset=utf-8", filename: "\(identity)-messages.csv")
    }

    static func urlEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
