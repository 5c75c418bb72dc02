import Foundation
import HTTPTypes
import Logging
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// The OpenAPI document in the repository, the document the API serves, and the
/// routes it serves agree: the same operations, and each answers with a status the
/// document lists and the members its schema requires.
@Suite("Admin API: OpenAPI document", .serialized, .timeLimit(.minutes(2)))
struct OpenAPIDocumentTests {
    static let documentFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/Worker/Admin/openapi.json")

    static func document() throws -> JSONValue {
        try JSONParser.parse(try String(contentsOf: documentFile, encoding: .utf8))
    }

    /// Every operation of the document as `METHOD path`.
    static func documentedOperations(_ document: JSONValue) -> Set<String> {
        guard case .object(let paths)? = document["paths"] else { return [] }
        var operations: Set<String> = []
        for (path, item) in paths.members {
            guard case .object(let methods) = item else { continue }
            for (method, _) in methods.members { operations.insert("\(method.uppercased()) \(path)") }
        }
        return operations
    }

    @Test func theRoutesAreExactlyTheDocumentedOperations() async throws {
        let client = PostgresClient(configuration: try TestDatabase.serverConfiguration)
        let routes = AdminRoutes.all(AdminEnvironment(client: client, logger: TestDatabase.logger))
        let served = Set(routes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(served.count == routes.count, "a route is registered twice")
        #expect(served == Self.documentedOperations(try Self.document()))
    }

    @Test func theAPIServesTheDocumentInTheRepository() async throws {
        try await AdminHarness.withAdmin { _, _, admin in
            let served = try await admin.client.get("/api/v1/openapi.json")
            #expect(served.status == 200)
            #expect(served.text == (try String(contentsOf: Self.documentFile, encoding: .utf8)))
        }
    }

    @Test func everyOperationAnswersAsDocumented() async throws {
        let document = try Self.document()
        try await AdminHarness.withAdmin { client, _, admin in
            let messageID = try await Self.seed(client)
            let values = ["identity": "CP-1", "messageId": messageID, "transactionId": "1", "idTag": "TAG-1"]
            guard case .object(let paths)? = document["paths"] else { throw DocumentError.noPaths }
            for (template, item) in paths.members {
                guard case .object(let methods) = item else { continue }
                for (method, operation) in methods.members {
                    var path = template
                    for (name, value) in values { path = path.replacingOccurrences(of: "{\(name)}", with: value) }
                    let example = operation["requestBody"]?["content"]?["application/json"]?["example"]
                    let reply = try await admin.client.send(
                        method.uppercased(), path, body: example?.jsonText)
                    let documented = Set(operation["responses"]?.objectKeys ?? [])
                    let name = "\(method.uppercased()) \(template)"
                    #expect(
                        documented.contains(String(reply.status)), "\(name) answered \(reply.status): \(reply.text)")
                    #expect((200..<300).contains(reply.status), "\(name) answered \(reply.status): \(reply.text)")
                    let schema = operation["responses"]?[String(reply.status)]?["content"]?["application/json"]?[
                        "schema"]
                    for member in Self.requiredMembers(of: schema, in: document) {
                        #expect(reply.json?[member] != nil, "\(name): no \(member) in \(reply.text)")
                    }
                }
            }
        }
    }

    /// A station CP-1 with transaction 1, id tag TAG-1 and one pending command.
    static func seed(_ client: PostgresClient) async throws -> String {
        try await client.query(
            """
            WITH s AS (INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-1', 'Pending') RETURNING id)
            INSERT INTO ocpp.transactions (id, station_id, connector_id, id_tag, meter_start, started_at)
            SELECT 1, id, 1, 'TAG-1', 0, now() FROM s
            """)
        try await client.query("INSERT INTO ocpp.id_tags (id_tag) VALUES ('TAG-1')")
        return try await client.scalar(
            "SELECT ocpp.enqueue_call('CP-1', 'ClearCache', '{}')", as: String.self)
    }

    /// The `required` members of a response schema, following `$ref` and `allOf`.
    static func requiredMembers(of schema: JSONValue?, in document: JSONValue) -> [String] {
        guard let schema else { return [] }
        if let reference = schema["$ref"]?.string {
            let name = String(reference.split(separator: "/").last ?? "")
            return requiredMembers(of: document["components"]?["schemas"]?[name], in: document)
        }
        let own = schema["required"]?.array?.compactMap(\.string) ?? []
        return own + (schema["allOf"]?.array ?? []).flatMap { requiredMembers(of: $0, in: document) }
    }

    enum DocumentError: Error {
        case noPaths
    }
}

extension JSONValue {
    fileprivate var objectKeys: [String]? {
        guard case .object(let object) = self else { return nil }
        return object.members.map(\.key)
    }
}
