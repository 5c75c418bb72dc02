import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OCPP
import PostgresNIO
import Shared

/// The operator's web console, on the admin listener at `/` (the API stays under
/// `/api/v1`): pages rendered on the server, a session cookie after signing in with
/// the admin token, live station state over server-sent events (docs/CONSOLE.md).
struct Console: Sendable {
    typealias PageHandler = @Sendable (Request, ConsoleForm, ConsoleSessions.Session) async throws -> Response

    let client: PostgresClient
    let queue: CommandQueue
    let logger: Logger
    let token: String
    let sessions: ConsoleSessions
    let pages: ConsolePages
    let hub: ConsoleLiveHub

    init(client: PostgresClient, token: String, logger: Logger, hub: ConsoleLiveHub) throws {
        self.client = client
        self.queue = CommandQueue(client: client, logger: logger)
        self.logger = logger
        self.token = token
        self.sessions = ConsoleSessions(token: token)
        self.pages = try ConsolePages()
        self.hub = hub
    }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in Response.seeOther("/stations") }
        router.get("/static/{file}") { _, context in
            let name = try context.parameters.require("file")
            guard let file = pages.files[name] else { return Response(status: .notFound) }
            return Response(
                status: .ok, headers: [.contentType: file.contentType, .cacheControl: "max-age=300"],
                body: .init(byteBuffer: ByteBuffer(string: file.body)))
        }
        router.get("/sign-in") { request, _ in signInPage(request, error: nil) }
        router.post("/sign-in") { request, _ in try await signIn(request) }
        router.post("/sign-out", use: page(signOut))
        router.get("/live", use: page(live))
        registerStations(on: router)
        registerCommands(on: router)
        registerTransactions(on: router)
        registerIdTags(on: router)
    }

    // MARK: Sessions

    /// Wraps a page: without a session, a GET goes to the sign-in page (and comes
    /// back after) and anything else is refused; a POST must carry the session's
    /// CSRF token and, when the browser sends one, this site's Origin.
    func page(_ handler: @escaping PageHandler) -> @Sendable (Request, BasicRequestContext) async throws -> Response {
        { request, _ in
            guard let id = ConsoleSecurity.sessionID(cookieHeader: request.headers[.cookie]),
                let session = await sessions.session(id: id)
            else {
                guard request.method == .get else { return Response(status: .forbidden) }
                let target = request.uri.string
                let next = target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"
                return .seeOther("/sign-in?next=\(next)")
            }
            var form = ConsoleForm(query: request)
            if request.method != .get {
                form = try await ConsoleForm(request)
                guard
                    ConsoleSecurity.isSameOriginForm(
                        csrfField: form["csrf"], session: session, origin: request.headers[.origin],
                        host: request.head.authority)
                else {
                    logger.notice("console form refused: missing or wrong CSRF token, or another Origin")
                    return errorPage(
                        status: .forbidden,
                        "The form was refused (it did not come from this console). Reload and try again.",
                        session: session)
                }
            }
            do {
                return try await handler(request, form, session)
            } catch let error as AdminError {
                return errorPage(status: error.status, error.message, session: session)
            }
        }
    }

    func errorPage(status: HTTPResponse.Status, _ message: String, session: ConsoleSessions.Session?) -> Response {
        .html(
            pages.render("error", title: "Error", data: ["message": message, "status": status.code], session: session),
            status: status)
    }

    private func isSecure(_ request: Request) -> Bool {
        request.uri.scheme == .https || request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https"
    }

    func signInPage(_ request: Request, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let next = ConsoleForm(query: request)["next"] ?? ""
        var data: [String: Any] = ["next": next]
        if let error { data["error"] = error }
        return .html(pages.render("sign-in", title: "Sign in", data: data, session: nil), status: status)
    }

    func signIn(_ request: Request) async throws -> Response {
        let form = try await ConsoleForm(request)
        guard ConsoleSecurity.isSameOrigin(origin: request.headers[.origin], host: request.head.authority) else {
            return Response(status: .forbidden)
        }
        guard let given = form.values["token"], ConsoleSecurity.constantTimeEquals(given, token) else {
            logger.notice("console sign-in with a wrong token")
            // A guess costs time: slows down anyone trying tokens.
            try? await Task.sleep(for: .milliseconds(500))
            return signInPage(request, error: "That is not the admin token.", status: .unauthorized)
        }
        let session = await sessions.create()
        let cookie = ConsoleSecurity.sessionCookie(session, lifetime: sessions.lifetime, secure: isSecure(request))
        return .seeOther(Self.localTarget(form["next"]), headers: [.setCookie: cookie])
    }

    /// Where to go after signing in: a path of this site only, never another site.
    static func localTarget(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.hasPrefix("/\\") else { return "/stations" }
        return next
    }

    @Sendable func signOut(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    ) async throws
        -> Response
    {
        await sessions.remove(id: session.id)
        return .seeOther("/sign-in", headers: [.setCookie: ConsoleSecurity.clearedCookie(secure: isSecure(request))])
    }

    // MARK: Live updates

    /// Server-sent events for the stations `?stations=1,2,3` (database ids): their
    /// state at once, then again each time the worker applies a change.
    @Sendable func live(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    ) async throws
        -> Response
    {
        let ids = Set((form["stations"] ?? "").split(separator: ",").prefix(500).compactMap { Int64($0) })
        // `fleet=1`: a fleet page, which also follows the counts and other stations' changes.
        let fleet = form["fleet"] == "1"
        let (subscription, stream) = await hub.subscribe(stations: ids, fleet: fleet)
        let initial = ids.isEmpty ? [:] : try await ConsoleLive.events(for: ids, client: client, logger: logger)
        // A fleet page gets the counts at once too: they may have changed since it was read.
        let counts = fleet ? try await ConsoleLive.countsEvent(client: client, logger: logger) : ""
        let hub = self.hub
        let body = ResponseBody { writer in
            let pinger = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(15))
                    await hub.ping(subscription)
                }
            }
            defer { pinger.cancel() }
            do {
                try await writer.write(ByteBuffer(string: "retry: 1000\n\n" + initial.values.joined() + counts))
                for await event in stream {
                    try await writer.write(ByteBuffer(string: event))
                }
            } catch {
                await hub.unsubscribe(subscription)
                throw error
            }
            await hub.unsubscribe(subscription)
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream", .cacheControl: "no-store",
                HTTPField.Name("X-Accel-Buffering")!: "no",
            ],
            body: body)
    }

    // MARK: Helpers

    /// The single JSON text a query returns (nil: no row or NULL).
    func json(_ query: PostgresQuery) async throws -> String? {
        var answer: String?
        for row in try await client.boundedRows(query, logger: logger) {
            answer = try row.decode(String?.self)
        }
        return answer
    }

    /// Whether a table exists (tables other work may add later, such as certificates).
    func tableExists(_ name: String) async throws -> Bool {
        try await json("SELECT to_regclass(\(name))::text") != nil
    }
}

/// Sends `/api/...` to the bearer-token check and everything else to the console,
/// whose pages check their own session cookie.
struct ConsoleGateMiddleware<Context: RequestContext>: RouterMiddleware {
    let api: BearerTokenMiddleware<Context>

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if path == "/api" || path.hasPrefix("/api/") {
            return try await api.handle(request, context: context, next: next)
        }
        return try await next(request, context)
    }
}
