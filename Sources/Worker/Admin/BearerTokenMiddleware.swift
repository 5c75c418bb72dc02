import Hummingbird
import Logging

/// Lets a request through only with `Authorization: Bearer <token>`; everything else,
/// unknown paths included, is answered 401 so the API reveals nothing to a caller
/// without the token.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    private let expected: [UInt8]

    init(token: String) {
        expected = Array(token.utf8)
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization], isExpectedToken(in: header) else {
            context.logger.notice("admin API request without a valid token", metadata: ["path": "\(request.uri.path)"])
            throw AdminError.unauthorized
        }
        return try await next(request, context)
    }

    private func isExpectedToken(in header: String) -> Bool {
        let scheme = "bearer "
        guard header.count > scheme.count, header.prefix(scheme.count).lowercased() == scheme else { return false }
        return Self.constantTimeEquals(Array(header.dropFirst(scheme.count).utf8), expected)
    }

    /// Compares without stopping at the first difference, so the time taken does not
    /// tell an attacker how much of a guess was right.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
