import HTTPTypes
import Hummingbird

/// A known path asked with a method it does not have is a 405 with `Allow`, not the
/// router's 404 (which stays for paths the API does not have): so a client, or the
/// fuzzer in scripts/api-fuzz, can tell a wrong method from a wrong path.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each path template's segments and the methods it has.
    private let paths: [(segments: [Substring], allow: String)]

    init(routes: [AdminRoute]) {
        var methods: [String: [HTTPRequest.Method]] = [:]
        var order: [String] = []
        for route in routes {
            if methods[route.path] == nil { order.append(route.path) }
            methods[route.path, default: []].append(route.method)
        }
        // Only the document's methods: HEAD and OPTIONS, which it does not list, are 405s too.
        paths = order.map { path in
            (path.split(separator: "/"), (methods[path] ?? []).map(\.rawValue).joined(separator: ", "))
        }
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allow = allowedMethods(for: request.uri.path) else { throw error }
            throw AdminError(
                status: .methodNotAllowed, code: "method_not_allowed",
                message: "\(request.uri.path) takes \(allow), not \(request.method.rawValue)", allow: allow)
        }
    }

    /// The `Allow` value of the template `path` matches (a `{name}` segment matches
    /// any one segment), nil when none does.
    func allowedMethods(for path: String) -> String? {
        let segments = path.split(separator: "/")
        return paths.first { template in
            template.segments.count == segments.count
                && zip(template.segments, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }?.allow
    }
}
