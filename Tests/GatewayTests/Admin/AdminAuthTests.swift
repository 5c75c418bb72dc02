import TestSupport
import Testing

/// Every admin route needs the bearer token; without it the API says nothing but 401.
@Suite("Admin API: bearer token", .serialized, .timeLimit(.minutes(2)))
struct AdminAuthTests {
    @Test func everyRouteRefusesARequestWithoutTheRightToken() async throws {
        try await AdminHarness.withAdmin { _, _, admin in
            let paths = [
                ("GET", "/api/v1/stations"), ("POST", "/api/v1/stations"), ("GET", "/api/v1/commands"),
                ("DELETE", "/api/v1/commands/x"), ("GET", "/api/v1/openapi.json"),
                // An unknown path too: without the token nobody learns which paths exist.
                ("GET", "/api/v1/no-such-thing"),
            ]
            for token in [nil, "wrong-token-0123456789", AdminHarness.token + "x"] {
                for (method, path) in paths {
                    let reply = try await admin.client(token: token).send(method, path)
                    #expect(reply.status == 401, "\(method) \(path) with token \(token ?? "none")")
                    #expect(reply.json?["error"]?.string == "unauthorized")
                    #expect(reply.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
                }
            }
            #expect(try await admin.client.get("/api/v1/stations").status == 200)
            #expect(try await admin.client.get("/api/v1/no-such-thing").status == 404)
        }
    }
}
