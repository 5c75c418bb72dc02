import Foundation
import Hummingbird

/// Serves the OpenAPI document that describes this API (`Admin/openapi.json`,
/// bundled with the worker as a resource), so clients and tools read it from the
/// running system.
struct OpenAPIRoute {
    static let path = "/api/v1/openapi.json"

    var routes: [AdminRoute] {
        let document = Self.document()
        return [
            AdminRoute(.get, Self.path) { request, _ in
                _ = try AdminQuery(request, allowed: [])
                guard let document else {
                    throw AdminError(
                        status: .internalServerError, code: "internal_error",
                        message: "this build has no OpenAPI document (the worker's resource bundle is missing)")
                }
                return Response.json(document)
            }
        ]
    }

    static func document() -> String? {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else { return nil }
        return try? String(contentsOf: url, encoding: .utf8)
    }
}
