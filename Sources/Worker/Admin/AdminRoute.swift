import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import Shared

/// One operation of the admin API. The routes are a plain list so the same list
/// registers the router and is checked against the OpenAPI document in tests.
struct AdminRoute: Sendable {
    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    let method: HTTPRequest.Method
    /// In OpenAPI form, e.g. `/api/v1/stations/{identity}`; Hummingbird reads the
    /// same `{name}` parameters.
    let path: String
    let handler: Handler

    init(_ method: HTTPRequest.Method, _ path: String, handler: @escaping Handler) {
        self.method = method
        self.path = path
        self.handler = handler
    }
}

/// What route handlers share: the API's own connection pool and the command queue.
struct AdminEnvironment: Sendable {
    let client: PostgresClient
    let queue: CommandQueue
    let logger: Logger

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.queue = CommandQueue(client: client, logger: logger)
        self.logger = logger
    }

    /// Runs a query whose single row and column is the JSON answer; nil when it
    /// returns no row or NULL (the thing asked for does not exist).
    func json(_ query: PostgresQuery) async throws -> String? {
        var answer: String?
        for try await text in try await client.query(query, logger: logger).decode(String?.self) {
            answer = text
        }
        return answer
    }

    /// The database id of the station `identity`; 404 when there is none.
    func stationID(_ identity: String) async throws -> Int64 {
        let found = try await json("SELECT id::text FROM ocpp.stations WHERE identity = \(identity)")
        guard let id = found.flatMap(Int64.init) else { throw AdminError.notFound("no station \(identity)") }
        return id
    }
}

extension Response {
    /// A JSON answer the database has already rendered.
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension BasicRequestContext {
    /// A path parameter, which the router guarantees is present for its route.
    func pathParameter(_ name: String) throws -> String {
        try parameters.require(name)
    }
}
