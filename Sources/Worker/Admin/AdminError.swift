import Hummingbird
import OCPP
import Shared

/// An answer of the admin API that is not a success: the HTTP status, a stable
/// machine-readable code and a sentence for people, as
/// `{"error": "code", "message": "...", "field": "..."}`.
struct AdminError: HTTPResponseError, Sendable {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    /// The request field the error is about, where there is one (a query parameter,
    /// a body member, or a path into an OCPP payload such as `payload.type`).
    var field: String?
    /// The methods the path has, for a 405 (its `Allow` header).
    var allow: String?

    init(
        status: HTTPResponse.Status, code: String, message: String, field: String? = nil, allow: String? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.allow = allow
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("error")
        writer.string(code)
        writer.key("message")
        writer.string(message)
        if let field {
            writer.key("field")
            writer.string(field)
        }
        writer.endObject()
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = #"Bearer realm="ocpp-admin""# }
        if let allow { headers[.allow] = allow }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }

    static func badRequest(_ message: String, field: String? = nil) -> AdminError {
        AdminError(status: .badRequest, code: "bad_request", message: message, field: field)
    }

    static func notFound(_ message: String) -> AdminError {
        AdminError(status: .notFound, code: "not_found", message: message)
    }

    static func conflict(_ message: String) -> AdminError {
        AdminError(status: .conflict, code: "conflict", message: message)
    }

    static let unauthorized = AdminError(
        status: .unauthorized, code: "unauthorized", message: "a valid bearer token is required")

    static let databaseUnavailable = AdminError(
        status: .serviceUnavailable, code: "database_unavailable", message: "the database cannot be reached")
}
