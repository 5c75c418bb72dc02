import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OCPP
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
        for row in try await client.boundedRows(query, logger: logger) {
            answer = try row.decode(String?.self)
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
    /// A path parameter, percent-decoded (the router hands over the segment as sent,
    /// so `CP%7C1` is the station `CP|1`) and checked against the document's rule for
    /// it: a value no resource can have is a 400 naming the parameter.
    func pathParameter(_ name: String) throws -> String {
        try AdminPathParameter.decode(try parameters.require(name), name: name)
    }
}

/// The rules of the API's path parameters, as the OpenAPI document states them.
enum AdminPathParameter {
    static func decode(_ segment: String, name: String) throws(AdminError) -> String {
        guard let value = segment.removingPercentEncoding, !value.isEmpty, !value.utf8.contains(0) else {
            throw .badRequest("\(name) is not a percent-encoded path segment", field: name)
        }
        switch name {
        case "identity":
            guard StationIdentity.isValid(value) else {
                throw .badRequest("identity must be \(StationIdentity.rule)", field: name)
            }
        case "idTag":
            guard value.unicodeScalars.count <= IdTagRoutes.maximumLength else {
                throw .badRequest("idTag must be 1 to \(IdTagRoutes.maximumLength) characters", field: name)
            }
        case "messageId":
            guard value.unicodeScalars.count <= CommandRoutes.messageIDMaximumLength else {
                throw .badRequest(
                    "messageId must be 1 to \(CommandRoutes.messageIDMaximumLength) characters", field: name)
            }
        default:
            break
        }
        return value
    }
}
