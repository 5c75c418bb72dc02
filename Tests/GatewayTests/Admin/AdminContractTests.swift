import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// What the OpenAPI fuzzer (scripts/api-fuzz) found, each fixed at its root and kept
/// so: identities round-trip through percent-encoded paths, what the document allows
/// is accepted (`after=`, a 40-character password, a command whose payload is all
/// optional without one), what it does not allow is refused (`null` for members that
/// are not nullable, U+0000), and a known path with a method it does not have is a 405.
@Suite("Admin API: the contract of the OpenAPI document", .serialized, .timeLimit(.minutes(2)))
struct AdminContractTests {
    /// The identity the fuzzer created and then could not read, and the same one
    /// percent-encoded as a path segment.
    static let identity = "2|qC09~T9gn++s@P7n"
    static let encoded = "2%7CqC09~T9gn%2B%2Bs%40P7n"

    @Test func anIdentityRoundTripsThroughEveryStationRoute() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            let created = try await admin.client.post(
                "/api/v1/stations", #"{"identity":"\#(Self.identity)","registrationStatus":"Pending"}"#)
            #expect(created.status == 201, "\(created.text)")
            #expect(created.json?["identity"]?.string == Self.identity)
            let station = "/api/v1/stations/\(Self.encoded)"

            // Read: fully encoded, and with only `|` encoded (`+`, `@`, `~` may stand as they are).
            for path in [station, "/api/v1/stations/2%7CqC09~T9gn++s@P7n"] {
                let read = try await admin.client.get(path)
                #expect(read.status == 200, "\(path): \(read.text)")
                #expect(read.json?["identity"]?.string == Self.identity)
            }
            let accepted = try await admin.client.post("\(station)/accept")
            #expect(accepted.json?["registrationStatus"]?.string == "Accepted", "\(accepted.text)")
            let mode = try await admin.client.send(
                "PUT", "\(station)/validation-mode", body: #"{"validationMode":"tolerant"}"#)
            #expect(mode.json?["validationMode"]?.string == "tolerant", "\(mode.text)")
            let password = try await admin.client.send(
                "PUT", "\(station)/password", body: #"{"password":"station-secret-0123456789"}"#)
            #expect(password.status == 200, "\(password.text)")
            #expect(password.json?["identity"]?.string == Self.identity)
            let profile = try await admin.client.send(
                "PUT", "\(station)/security-profile", body: #"{"securityProfile":1}"#)
            #expect(profile.json?["securityProfile"]?.number == 1, "\(profile.text)")

            let command = try await admin.client.post("\(station)/commands", #"{"action":"ClearCache"}"#)
            #expect(command.status == 201, "\(command.text)")
            #expect(command.json?["station"]?.string == Self.identity)
            let messageID = try #require(command.json?["messageId"]?.string)
            let listed = try await admin.client.get("/api/v1/commands?station=\(Self.encoded)")
            #expect(listed.json?["items"]?.array?.count == 1, "\(listed.text)")
            let cancelled = try await admin.client.delete("/api/v1/commands/\(messageID)")
            #expect(cancelled.json?["status"]?.string == "cancelled", "\(cancelled.text)")

            for list in ["events", "meter-values", "meter-values?resolution=hourly"] {
                let reply = try await admin.client.get("\(station)/\(list)")
                #expect(reply.status == 200, "\(list): \(reply.text)")
            }
            #expect(try await admin.client.get("/api/v1/transactions?station=\(Self.encoded)").status == 200)
            #expect(
                try await client.scalar(
                    "SELECT count(*) FROM ocpp.stations WHERE identity = \(Self.identity)", as: Int.self) == 1)

            // Another identity is a 404; a value no identity can be (`:`) is a 400 naming it.
            #expect(try await admin.client.get("/api/v1/stations/2%7Cother").status == 404)
            let invalid = try await admin.client.get("/api/v1/stations/CP%3A1")
            #expect(invalid.status == 400)
            #expect(invalid.json?["field"]?.string == "identity")
            #expect(try await admin.client.get("/api/v1/stations/CP%ZZ").status == 400)
        }
    }

    @Test func anIdTagRoundTripsThroughItsPercentEncodedPath() async throws {
        try await AdminHarness.withAdmin { _, _, admin in
            let created = try await admin.client.post("/api/v1/id-tags", #"{"idTag":"TAG/1 ü?#"}"#)
            #expect(created.status == 201, "\(created.text)")
            let path = "/api/v1/id-tags/TAG%2F1%20%C3%BC%3F%23"
            #expect(try await admin.client.get(path).json?["idTag"]?.string == "TAG/1 ü?#")
            #expect(try await admin.client.post("\(path)/block").json?["status"]?.string == "Blocked")
            #expect(try await admin.client.post("\(path)/unblock").json?["status"]?.string == "Accepted")
            let tooLong = try await admin.client.get("/api/v1/id-tags/\(String(repeating: "A", count: 21))")
            #expect(tooLong.status == 400)
            #expect(tooLong.json?["field"]?.string == "idTag")
        }
    }

    @Test func anEmptyAfterIsTheFirstPageOfEveryList() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-1', 'Accepted')")
            let lists = [
                "/api/v1/stations", "/api/v1/commands", "/api/v1/transactions", "/api/v1/id-tags",
                "/api/v1/stations/CP-1/events", "/api/v1/stations/CP-1/meter-values",
            ]
            for list in lists {
                let first = try await admin.client.get("\(list)?limit=10")
                let empty = try await admin.client.get("\(list)?limit=10&after=")
                #expect(empty.status == 200, "\(list): \(empty.text)")
                #expect(empty.json == first.json, "\(list)")
                // A cursor no page returned is a 400 naming `after`, never a server error:
                // garbage, and a well-formed key of the wrong type (["x"] where an id or a
                // time is).
                let textKeyed = list == "/api/v1/stations" || list == "/api/v1/id-tags"
                let wrongKey = PageCursorText.encode(#"["x"]"#)
                for after in textKeyed ? ["garbage"] : ["garbage", wrongKey] {
                    let refused = try await admin.client.get("\(list)?after=\(after)")
                    #expect(refused.status == 400, "\(list)?after=\(after): \(refused.text)")
                    #expect(refused.json?["field"]?.string == "after", "\(list)")
                }
            }
        }
    }

    @Test func aCommandWhosePayloadIsAllOptionalNeedsNone() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-1', 'Accepted')")
            for action in ["ClearCache", "GetConfiguration", "GetLocalListVersion", "ClearChargingProfile"] {
                let queued = try await admin.client.post("/api/v1/stations/CP-1/commands", #"{"action":"\#(action)"}"#)
                #expect(queued.status == 201, "\(action): \(queued.text)")
                #expect(queued.json?["payload"] == .object(JSONObject()), "\(action)")
            }
            // Reset's payload has a required `type` (OCPP 1.6): without one it is a 422
            // naming it, and the document says the payload is required for Reset.
            let reset = try await admin.client.post("/api/v1/stations/CP-1/commands", #"{"action":"Reset"}"#)
            #expect(reset.status == 422)
            #expect(reset.json?["field"]?.string == "payload.type")
            let document = try OpenAPIDocumentTests.document()
            let schemas = document["components"]?["schemas"]
            #expect(schemas?["ResetCommand"]?["required"]?.array?.contains(.string("payload")) == true)
            #expect(schemas?["ClearCacheCommand"]?["required"]?.array?.contains(.string("payload")) == false)
            let soft = try await admin.client.post(
                "/api/v1/stations/CP-1/commands", #"{"action":"Reset","payload":{"type":"Soft"}}"#)
            #expect(soft.status == 201, "\(soft.text)")
        }
    }

    @Test func aPasswordOfSixteenToFortyPrintableCharactersIsTaken() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-1', 'Accepted')")
            let path = "/api/v1/stations/CP-1/password"
            let forty = String(repeating: "aB3~", count: 10)
            let taken = try await admin.client.send("PUT", path, body: #"{"password":"\#(forty)"}"#)
            #expect(taken.status == 200, "\(taken.text)")
            #expect(try await admin.client.send("PUT", path, body: #"{"password":"0123456789abcdef"}"#).status == 200)
            for refused in [forty + "x", "0123456789abcde", "0123456789 abcdef", "0123456789abcdeé"] {
                let reply = try await admin.client.send("PUT", path, body: #"{"password":"\#(refused)"}"#)
                #expect(reply.status == 400, "\(refused)")
                #expect(reply.json?["field"]?.string == "password")
                #expect(reply.json?["message"]?.string?.contains("16 to 40 printable ASCII") == true)
            }
            // Pushed, it travels as an AuthorizationKey of at most 20 bytes, as the document says.
            let pushed = try await admin.client.send("PUT", path, body: #"{"password":"\#(forty)","push":true}"#)
            #expect(pushed.status == 400)
            #expect(pushed.json?["field"]?.string == "password")
            let document = try OpenAPIDocumentTests.document()
            let request = document["components"]?["schemas"]?["PasswordRequest"]
            #expect(request?["properties"]?["password"]?["maxLength"]?.number == 40)
            #expect(request?["properties"]?["password"]?["pattern"]?.string == "^[!-~]{16,40}$")
            #expect(request?["then"]?["properties"]?["password"]?["maxLength"]?.number == 20)
        }
    }

    @Test func nullIsRefusedWhereTheDocumentDoesNotAllowIt() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-1', 'Accepted')")
            let cases: [(method: String, path: String, body: String, field: String)] = [
                ("POST", "/api/v1/stations/CP-1/commands", #"{"action":"ClearCache","expiresAt":null}"#, "expiresAt"),
                ("POST", "/api/v1/stations/CP-1/commands", #"{"action":"ClearCache","notBefore":null}"#, "notBefore"),
                (
                    "POST", "/api/v1/stations/CP-1/commands", #"{"action":"ClearCache","collapseKey":null}"#,
                    "collapseKey"
                ),
                ("POST", "/api/v1/stations/CP-1/commands", #"{"action":"ClearCache","payload":null}"#, "payload"),
                ("PUT", "/api/v1/stations/CP-1/password", #"{"push":null}"#, "push"),
                ("PUT", "/api/v1/stations/CP-1/password", #"{"password":null}"#, "password"),
                (
                    "PUT", "/api/v1/stations/CP-1/security-profile", #"{"securityProfile":0,"allowDowngrade":null}"#,
                    "allowDowngrade"
                ),
                ("POST", "/api/v1/stations", #"{"identity":"CP-2","registrationStatus":null}"#, "registrationStatus"),
                ("POST", "/api/v1/id-tags", #"{"idTag":"TAG-1","expiryDate":null}"#, "expiryDate"),
            ]
            for (method, path, body, field) in cases {
                let reply = try await admin.client.send(method, path, body: body)
                #expect(reply.status == 400, "\(body): \(reply.text)")
                #expect(reply.json?["field"]?.string == field, "\(body)")
                #expect(reply.json?["message"]?.string?.contains("not null") == true, "\(body)")
            }
            #expect(
                try await client.scalar("SELECT count(*) FROM ocpp.station_messages", as: Int.self) == 0)
            // Where null means something, it is taken.
            let cleared = try await admin.client.send(
                "PUT", "/api/v1/stations/CP-1/validation-mode", body: #"{"validationMode":null}"#)
            #expect(cleared.status == 200)
        }
    }

    @Test func aStringWithNULAndAnExpiryBeforeTheStartAreRefused() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-1', 'Accepted')")
            let body = try await admin.client.post(
                "/api/v1/stations/CP-1/commands",
                #"{"action":"DataTransfer","payload":{"vendorId":"V","data":"a\u0000b"}}"#)
            #expect(body.status == 400, "\(body.text)")
            #expect(body.json?["field"]?.string == "payload")
            let query = try await admin.client.get("/api/v1/commands?station=CP%00")
            #expect(query.status == 400)
            #expect(query.json?["field"]?.string == "station")
            #expect(try await admin.client.get("/api/v1/id-tags/TAG%00").status == 400)

            let backwards = try await admin.client.post(
                "/api/v1/stations/CP-1/commands",
                #"{"action":"ClearCache","notBefore":"2030-01-02T00:00:00Z","expiresAt":"2030-01-01T00:00:00Z"}"#)
            #expect(backwards.status == 400)
            #expect(backwards.json?["field"]?.string == "expiresAt")
            let past = try await admin.client.post(
                "/api/v1/stations/CP-1/commands", #"{"action":"ClearCache","expiresAt":"2000-01-01T00:00:00Z"}"#)
            #expect(past.status == 400)
            #expect(past.json?["field"]?.string == "expiresAt")
        }
    }

    @Test func aMethodAKnownPathDoesNotHaveIsA405WithAllow() async throws {
        try await AdminHarness.withAdmin { _, _, admin in
            let cases: [(method: String, path: String, allow: String)] = [
                ("PATCH", "/api/v1/stations", "GET, POST"),
                ("DELETE", "/api/v1/stations/CP-1", "GET"),
                ("GET", "/api/v1/stations/CP-1/accept", "POST"),
                ("POST", "/api/v1/commands/abc", "GET, DELETE"),
                ("PUT", "/api/v1/openapi.json", "GET"),
            ]
            for (method, path, allow) in cases {
                let reply = try await admin.client.send(method, path, body: method == "GET" ? nil : "{}")
                #expect(reply.status == 405, "\(method) \(path): \(reply.text)")
                #expect(reply.header("Allow") == allow, "\(method) \(path)")
                #expect(reply.json?["error"]?.string == "method_not_allowed")
            }
            // A path the API does not have stays a 404; without the token, everything is a 401.
            #expect(try await admin.client.send("PATCH", "/api/v1/nothing").status == 404)
            #expect(try await admin.client(token: nil).send("PATCH", "/api/v1/stations").status == 401)
            // HEAD is not in the document either.
            let head = try await admin.client.send("HEAD", "/api/v1/stations")
            #expect(head.status == 405)
            #expect(head.header("Allow") == "GET, POST")
        }
    }
}

extension AdminContractTests {
    /// The document states the rules the code applies, from the same constants.
    @Test func theDocumentStatesTheRulesTheCodeApplies() throws {
        let document = try OpenAPIDocumentTests.document()
        let parameters = document["components"]?["parameters"]
        let identity = parameters?["identity"]?["schema"]
        #expect(identity?["maxLength"]?.number == Double(StationIdentity.maximumLength))
        #expect(identity?["pattern"]?.string == "^[A-Za-z0-9._~*+@|-]+$")
        #expect(parameters?["idTag"]?["schema"]?["maxLength"]?.number == Double(IdTagRoutes.maximumLength))
        #expect(
            parameters?["messageId"]?["schema"]?["maxLength"]?.number == Double(CommandRoutes.messageIDMaximumLength))
        #expect(parameters?["after"]?["schema"]?["maxLength"]?.number == Double(PageCursor.maximumLength))
        #expect(parameters?["after"]?["schema"]?["minLength"] == nil, "after= is the first page")

        let password = document["components"]?["schemas"]?["PasswordRequest"]?["properties"]?["password"]
        #expect(password?["minLength"]?.number == Double(StationPassword.passwordLength.lowerBound))
        #expect(password?["maxLength"]?.number == Double(StationPassword.passwordLength.upperBound))

        // One request schema per command a central system sends, under its action's name.
        let commands = OCPPAction.allCases.filter { $0.directions.contains(.centralSystemToChargePoint) }
        let variants = document["components"]?["schemas"]?["CommandRequest"]?["oneOf"]?.array ?? []
        #expect(variants.count == commands.count)
        for action in commands {
            let variant = document["components"]?["schemas"]?["\(action.rawValue)Command"]
            #expect(variant?["properties"]?["action"]?["const"]?.string == action.rawValue)
            #expect(variant?["additionalProperties"] == .bool(false))
        }

        // Every route that reads a body answers 413 for one over 1 MiB; every code the
        // API answers is in the error body's enum.
        guard case .object(let paths)? = document["paths"] else { throw OpenAPIDocumentTests.DocumentError.noPaths }
        for (path, item) in paths.members {
            guard case .object(let methods) = item else { continue }
            for (method, operation) in methods.members where operation["requestBody"] != nil {
                #expect(operation["responses"]?["413"] != nil, "\(method) \(path)")
            }
        }
        let codes = document["components"]?["schemas"]?["Error"]?["properties"]?["error"]?["enum"]?.array ?? []
        for code in [
            "bad_request", "unauthorized", "not_found", "method_not_allowed", "conflict", "too_large",
            "invalid_payload", "too_many_pending", "internal_error", "database_unavailable",
        ] {
            #expect(codes.contains(.string(code)), "\(code)")
        }
    }
}

extension AdminContractTests {
    /// Each command's payload schema in the document is the action's official OCPP 1.6
    /// (or security whitepaper) request schema, as the API validates it: the schema
    /// property test holds the validation to the official schemas, this holds the
    /// document to them. The integers' 64-bit bounds are the document's own addition.
    @Test(.enabled(if: SchemaFuzz.schemaDirectory != nil, "OCPP_SCHEMA_DIR is set by scripts/test"))
    func theCommandPayloadSchemasAreTheOfficialOnes() throws {
        let directory = try #require(SchemaFuzz.schemaDirectory)
        let document = try OpenAPIDocumentTests.document()
        let schemas = document["components"]?["schemas"]
        for action in OCPPAction.allCases where action.directions.contains(.centralSystemToChargePoint) {
            let official = try JSONParser.parse(
                try String(contentsOf: directory.appendingPathComponent("\(action.rawValue).json"), encoding: .utf8))
            let documented = try #require(schemas?["\(action.rawValue)Payload"], "\(action.rawValue)")
            let expected = SchemaCanon.canonical(official) { official["definitions"]?[Self.lastComponent($0)] }
            let found = SchemaCanon.canonical(documented) { schemas?[Self.lastComponent($0)] }
            #expect(found == expected, "\(action.rawValue)Payload differs from the official \(action.rawValue).json")
        }
    }

    static func lastComponent(_ reference: String) -> String {
        String(reference.split(separator: "/").last ?? "")
    }
}

/// A JSON schema in a form two schemas that validate alike share: references
/// resolved, the keywords that only describe (titles, descriptions, ids, `$schema`)
/// and `additionalProperties` on non-objects (meaningless there) left out, integer
/// bounds of 64 bits (what every integer field holds) left out, members sorted.
enum SchemaCanon {
    static func canonical(_ value: JSONValue, resolve: (String) -> JSONValue?) -> JSONValue {
        switch value {
        case .array(let items):
            return .array(items.map { canonical($0, resolve: resolve) })
        case .object(let object):
            if case .string(let reference)? = object["$ref"], let target = resolve(reference) {
                return canonical(target, resolve: resolve)
            }
            let isObject = object["type"] == .string("object")
            var members: [(key: String, value: JSONValue)] = []
            for (key, member) in object.members {
                switch key {
                case "$schema", "$id", "id", "title", "description", "definitions":
                    continue
                case "additionalProperties" where !isObject:
                    continue
                case "minimum" where member == .integer(Int64.min):
                    continue
                case "maximum" where member == .integer(Int64.max):
                    continue
                case "properties":
                    guard case .object(let properties) = member else { continue }
                    let sorted = properties.members.map { ($0.key, canonical($0.value, resolve: resolve)) }
                        .sorted { $0.0 < $1.0 }
                    members.append((key, .object(JSONObject(sorted))))
                default:
                    members.append((key, canonical(member, resolve: resolve)))
                }
            }
            return .object(JSONObject(members.sorted { $0.key < $1.key }))
        default:
            return value
        }
    }
}

/// A page cursor as the API writes one (base64url of its sort key, unpadded).
enum PageCursorText {
    static func encode(_ key: String) -> String {
        Data(key.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
