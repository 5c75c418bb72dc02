import Foundation
import OCPP
import Shared

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP client of the admin API, as an operator's script would be.
struct AdminClient: Sendable {
    let port: Int
    let token: String?

    struct Reply: Sendable {
        var status: Int
        var text: String
        var headers: [String: String]

        /// The body as JSON (nil when it is not).
        var json: JSONValue? { try? JSONParser.parse(text) }

        func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    func get(_ path: String) async throws -> Reply { try await send("GET", path) }
    func post(_ path: String, _ body: String? = nil) async throws -> Reply { try await send("POST", path, body: body) }
    func delete(_ path: String) async throws -> Reply { try await send("DELETE", path) }

    func send(_ method: String, _ path: String, body: String? = nil) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 10
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw AdminClientError.notHTTP }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name] = value }
        }
        return Reply(status: http.statusCode, text: String(decoding: data, as: UTF8.self), headers: headers)
    }
}

enum AdminClientError: Error {
    case notHTTP
}
