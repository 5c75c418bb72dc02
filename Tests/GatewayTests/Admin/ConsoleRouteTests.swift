import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The web console over HTTP, on a real worker's admin listener and database:
/// sign-in, the session cookie, CSRF, the pages and the downloads.
@Suite("Console: routes over HTTP", .serialized, .timeLimit(.minutes(3)))
struct ConsoleRouteTests {
    /// A browser-like client that does not follow redirects and keeps one cookie.
    final class Browser: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
        let port: Int
        var cookie: String?
        lazy var session = URLSession(configuration: .ephemeral, delegate: self, delegateQueue: nil)

        init(port: Int) {
            self.port = port
        }

        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
        ) {
            completionHandler(nil)
        }

        struct Reply {
            var status: Int
            var text: String
            var headers: [String: String]
            func header(_ name: String) -> String? {
                headers.first { $0.key.lowercased() == name.lowercased() }?.value
            }
        }

        func get(_ path: String) async throws -> Reply { try await send("GET", path) }

        func post(_ path: String, form: [String: String], origin: String? = nil) async throws -> Reply {
            let body = form.map { key, value in
                "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)"
            }.joined(separator: "&")
            return try await send("POST", path, body: body, origin: origin)
        }

        func send(_ method: String, _ path: String, body: String? = nil, origin: String? = nil) async throws -> Reply {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            request.timeoutInterval = 10
            request.httpShouldHandleCookies = false
            if let cookie { request.setValue(cookie, forHTTPHeaderField: "Cookie") }
            if let origin { request.setValue(origin, forHTTPHeaderField: "Origin") }
            if let body {
                request.httpBody = Data(body.utf8)
                request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            }
            let (data, response) = try await session.data(for: request)
            let http = try #require(response as? HTTPURLResponse)
            var headers: [String: String] = [:]
            for (name, value) in http.allHeaderFields {
                if let name = name as? String, let value = value as? String { headers[name] = value }
            }
            return Reply(status: http.statusCode, text: String(decoding: data, as: UTF8.self), headers: headers)
        }

        /// Signs in; keeps the session cookie.
        func signIn(token: String = AdminHarness.token) async throws -> Reply {
            let reply = try await post("/sign-in", form: ["token": token, "next": "/stations"])
            if let setCookie = reply.header("Set-Cookie"), let pair = setCookie.split(separator: ";").first {
                cookie = String(pair)
            }
            return reply
        }

        /// The CSRF token of the page's forms.
        func csrf(on path: String = "/id-tags") async throws -> String {
            let text = try await get(path).text
            let marker = #"name="csrf" value=""#
            let start = try #require(text.range(of: marker)).upperBound
            return String(text[start...].prefix { $0 != "\"" })
        }
    }

    static func withConsole(_ body: @Sendable (PostgresClient, AdminHarness, Browser) async throws -> Void) async throws
    {
        try await AdminHarness.withAdmin { client, _, admin in
            try await body(client, admin, Browser(port: admin.client.port))
        }
    }

    @Test func pagesNeedASignInAndTheAPIStillNeedsItsToken() async throws {
        try await Self.withConsole { _, admin, browser in
            let page = try await browser.get("/stations?online=online")
            #expect(page.status == 303)
            #expect(page.header("Location") == "/sign-in?next=%2Fstations%3Fonline%3Donline")
            #expect(try await browser.get("/").header("Location") == "/stations")
            #expect(try await browser.get("/sign-in").text.contains("Admin token"))
            #expect(try await browser.get("/static/console.css").status == 200)
            #expect(try await admin.client(token: nil).get("/api/v1/stations").status == 401)
            // A form without a session changes nothing.
            #expect(try await browser.post("/id-tags", form: ["idTag": "X"]).status == 403)
        }
    }

    @Test func signInSetsAStrictHttpOnlyCookieAndSignOutEndsIt() async throws {
        try await Self.withConsole { _, _, browser in
            let wrong = try await browser.signIn(token: "wrong-token-0123456789")
            #expect(wrong.status == 401)
            #expect(wrong.text.contains("That is not the admin token."))
            #expect(browser.cookie == nil)
            let signedIn = try await browser.signIn()
            #expect(signedIn.status == 303)
            #expect(signedIn.header("Location") == "/stations")
            let setCookie = try #require(signedIn.header("Set-Cookie"))
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
            #expect(!setCookie.contains(AdminHarness.token))
            #expect(try await browser.get("/stations").status == 200)
            let csrf = try await browser.csrf()
            let cookie = browser.cookie
            let out = try await browser.post("/sign-out", form: ["csrf": csrf])
            #expect(out.status == 303)
            #expect(out.header("Set-Cookie")?.contains("Max-Age=0") == true)
            // The old cookie is no longer a session.
            browser.cookie = cookie
            #expect(try await browser.get("/stations").status == 303)
        }
    }

    @Test func formsNeedTheSessionsCSRFTokenAndThisOrigin() async throws {
        try await Self.withConsole { client, _, browser in
            _ = try await browser.signIn()
            let csrf = try await browser.csrf()
            let form = ["idTag": "TAG-1", "newStatus": "Accepted"]
            #expect(try await browser.post("/id-tags", form: form).status == 403)
            #expect(try await browser.post("/id-tags", form: form.merging(["csrf": "forged"]) { $1 }).status == 403)
            let foreign = try await browser.post(
                "/id-tags", form: form.merging(["csrf": csrf]) { $1 }, origin: "http://evil.example")
            #expect(foreign.status == 403)
            let count: Int = try await client.scalar("SELECT count(*)::int FROM ocpp.id_tags")
            #expect(count == 0)
            let created = try await browser.post(
                "/id-tags",
                form: form.merging(["csrf": csrf, "expiryDate": "2030-01-31T12:00", "parentIdTag": "P"]) { $1 },
                origin: "http://127.0.0.1:\(browser.port)")
            #expect(created.status == 303)
            let row: String = try await client.scalar(
                "SELECT status || ' ' || to_char(expiry_date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' ' || parent_id_tag FROM ocpp.id_tags"
            )
            #expect(row == "Accepted 2030-01-31 12:00 P")
            #expect(try await browser.post("/id-tags/block", form: ["csrf": csrf, "idTag": "TAG-1"]).status == 303)
            #expect(try await client.scalar("SELECT status FROM ocpp.id_tags") as String == "Blocked")
            let changed = try await browser.post(
                "/id-tags/update",
                form: ["csrf": csrf, "idTag": "TAG-1", "expiryDate": "2031-05-01T08:30", "parentIdTag": ""])
            #expect(changed.status == 303)
            let after: String = try await client.scalar(
                """
                SELECT to_char(expiry_date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' ' || coalesce(parent_id_tag, '-')
                FROM ocpp.id_tags
                """)
            #expect(after == "2031-05-01 08:30 -")
            let tooLong = try await browser.post(
                "/id-tags/update",
                form: ["csrf": csrf, "idTag": "TAG-1", "parentIdTag": String(repeating: "P", count: 21)])
            #expect(tooLong.status == 422)
            #expect(tooLong.text.contains("parentIdTag must be 1 to 20 characters"))
            let invalid = try await browser.post(
                "/id-tags", form: ["csrf": csrf, "idTag": "TAG-2", "expiryDate": "soon"])
            #expect(invalid.status == 422)
            #expect(invalid.text.contains(#"data-error-for="expiryDate""#))
        }
    }

    @Test func theFleetPageListsFiltersAndPages() async throws {
        try await Self.withConsole { client, _, browser in
            for number in 0..<60 {
                _ = try await client.query(
                    "INSERT INTO ocpp.stations (identity, registration_status) VALUES (\("CP-\(1000 + number)"), 'Accepted')"
                )
            }
            _ = try await client.query("INSERT INTO ocpp.stations (identity) VALUES ('OTHER-1')")
            _ = try await client.query(
                """
                INSERT INTO ocpp.connectors (station_id, connector_id, status, error_code)
                SELECT id, 1, 'Faulted', 'GroundFailure' FROM ocpp.stations WHERE identity = 'CP-1007'
                """)
            _ = try await browser.signIn()
            let first = try await browser.get("/stations")
            #expect(first.text.contains("61 stations"))
            #expect(first.text.contains("Faulted: 1"))
            #expect(first.text.contains(">CP-1000<") && first.text.contains(">CP-1049<"))
            #expect(!first.text.contains(">CP-1050<"))
            #expect(first.text.contains(#"href="/stations?after=CP-1049""#))
            // The page's filter and identity range, for the script's "new or changed stations" notice.
            #expect(first.text.contains(#"data-filter-after="" data-filter-last="CP-1049""#))
            let second = try await browser.get("/stations?after=CP-1049")
            #expect(second.text.contains(">CP-1050<") && second.text.contains(">OTHER-1<"))
            #expect(!second.text.contains(">CP-1049<"))
            #expect(second.text.contains("data-filter-after=\"CP-1049\" data-filter-last=\"\">"))
            #expect(second.text.contains(#"<p class="notice" id="fleet-notice" role="status" hidden></p>"#))
            let search = try await browser.get("/stations?q=OTH")
            #expect(search.text.contains(">OTHER-1<") && !search.text.contains(">CP-1000<"))
            let faulted = try await browser.get("/stations?status=Faulted")
            #expect(faulted.text.contains(">CP-1007<") && faulted.text.contains("#1 Faulted · GroundFailure"))
            #expect(!faulted.text.contains(">CP-1000<"))
            #expect(faulted.text.contains("data-filter-online=\"\" data-filter-status=\"Faulted\" data-filter-q=\"\""))
            #expect(try await browser.get("/stations?online=online").text.contains("No station matches."))
        }
    }

    @Test func aCommandIsCheckedByTheAPIsRulesAndQueued() async throws {
        try await Self.withConsole { client, _, browser in
            _ = try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-1', 'Accepted')")
            _ = try await browser.signIn()
            let csrf = try await browser.csrf(on: "/commands")
            let invalid = try await browser.post(
                "/commands", form: ["csrf": csrf, "station": "CP-1", "action": "Reset", "field.type": "Gentle"])
            #expect(invalid.status == 422)
            #expect(invalid.text.contains(#"<span class="field-error" data-error-for="type">"#))
            let unknown = try await browser.post(
                "/commands", form: ["csrf": csrf, "station": "CP-404", "action": "Reset", "field.type": "Soft"])
            #expect(unknown.status == 422)
            #expect(unknown.text.contains("There is no station CP-404."))
            let sent = try await browser.post(
                "/commands", form: ["csrf": csrf, "station": "CP-1", "action": "Reset", "field.type": "Soft"])
            #expect(sent.status == 303)
            let payload: String = try await client.scalar(
                "SELECT action || ' ' || payload::text FROM ocpp.station_messages")
            #expect(payload == #"Reset {"type": "Soft"}"#)
            let page = try await browser.get(try #require(sent.header("Location")))
            #expect(page.text.contains("queued"))
            #expect(page.text.contains(#"<td class="command-status">pending</td>"#))
            // The message log of the station shows it, and downloads it.
            let log = try await browser.get("/stations/CP-1/messages?format=csv&direction=out")
            #expect(log.header("Content-Disposition") == #"attachment; filename="CP-1-messages.csv""#)
            let lines = log.text.split(separator: "\r\n")
            #expect(lines.first == "time,direction,action,message_id,status,payload,answer")
            #expect(
                lines.count == 2 && lines[1].contains(",out,Reset,") && lines[1].contains(#""{""type"": ""Soft""}""#))
            let jsonl = try await browser.get("/stations/CP-1/messages?format=jsonl")
            let entry = try JSONParser.parse(String(jsonl.text.split(separator: "\n")[0]))
            #expect(entry["payload"] == .object(JSONObject([("type", .string("Soft"))])))
            #expect(
                try await browser.get("/stations/CP-1/messages?format=csv&direction=in").text.split(separator: "\r\n")
                    .count == 1)
            // The time range: a window after the command holds nothing, one around it holds it.
            let later = try await browser.get("/stations/CP-1/messages?format=csv&from=2099-01-01T00:00")
            #expect(later.text.split(separator: "\r\n").count == 1)
            let around = try await browser.get(
                "/stations/CP-1/messages?format=csv&from=2000-01-01T00:00&to=2099-01-01T00:00&action=Reset")
            #expect(around.text.split(separator: "\r\n").count == 2)
            #expect(
                try await browser.get("/stations/CP-1/messages?format=csv&action=Heartbeat").text.split(
                    separator: "\r\n"
                ).count == 1)
        }
    }

    @Test func transactionsChartsAndExports() async throws {
        try await Self.withConsole { client, _, browser in
            _ = try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-1', 'Accepted')")
            _ = try await client.query(
                """
                INSERT INTO ocpp.transactions (id, station_id, connector_id, id_tag, meter_start, started_at, meter_stop, stopped_at, stop_reason)
                SELECT 7, id, 1, 'TAG,1', 1000, '2026-11-25T10:00:00Z', 4000, '2026-11-25T11:00:00Z', 'Local'
                FROM ocpp.stations WHERE identity = 'CP-1'
                """)
            _ = try await client.query(
                """
                INSERT INTO ocpp.meter_values (sampled_at, station_id, connector_id, transaction_id, measurand, unit, value)
                SELECT '2026-11-25T10:00:00Z'::timestamptz + make_interval(mins => n * 10), s.id, 1, 7,
                       'Energy.Active.Import.Register', 'Wh', 1000 + n * 500
                FROM ocpp.stations AS s, generate_series(0, 6) AS n WHERE s.identity = 'CP-1'
                """)
            _ = try await browser.signIn()
            let list = try await browser.get("/transactions?station=CP-1&status=Completed")
            #expect(list.text.contains(#"<a href="/transactions/7">7</a>"#))
            #expect(try await browser.get("/transactions?status=Active").text.contains("No transaction matches."))
            // The time range is of the start.
            #expect(
                try await browser.get("/transactions?from=2026-11-25T10:30").text.contains("No transaction matches."))
            #expect(
                try await browser.get("/transactions?from=2026-11-25T09:30&to=2026-11-25T10:30").text.contains(
                    #"<a href="/transactions/7">7</a>"#))
            let page = try await browser.get("/transactions/7")
            #expect(page.text.components(separatedBy: #"<svg class="chart""#).count == 3)
            #expect(page.text.contains(#"aria-label="Energy (Wh)""#) && page.text.contains(#"aria-label="Power (W)""#))
            // Power from the energy readings: 500 Wh per 10 minutes is 3000 W.
            #expect(page.text.contains(">3000<"))
            #expect(page.text.contains("Meter values (7;"))
            #expect(try await browser.get("/transactions/8").status == 404)
            let csv = try await browser.get("/transactions.csv?station=CP-1")
            #expect(
                csv.text
                    == "transaction_id,station,connector_id,id_tag,status,started_at,stopped_at,meter_start_wh,meter_stop_wh,energy_wh,stop_reason\r\n"
                    + "7,CP-1,1,\"TAG,1\",Completed,2026-11-25 10:00:00,2026-11-25 11:00:00,1000,4000,3000,Local\r\n")
            let samples = try await browser.get(
                "/meter-values.csv?from=2026-11-25T10:00&to=2026-11-25T10:30&station=CP-1")
            let lines = samples.text.split(separator: "\r\n")
            #expect(lines.count == 4)
            #expect(
                lines[1]
                    == "2026-11-25T10:00:00.000Z,CP-1,1,7,Energy.Active.Import.Register,,Outlet,Wh,Sample.Periodic,1000"
            )
            #expect(try await browser.get("/meter-values.csv").status == 400)
        }
    }
}
