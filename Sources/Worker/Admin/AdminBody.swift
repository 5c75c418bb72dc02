import Foundation
import Hummingbird
import OCPP
import Shared

/// A JSON object sent to the admin API, read member by member. Members the route
/// does not define are refused (a typo such as `colapseKey` would otherwise be lost),
/// and so is `null` for a member the OpenAPI document does not call nullable: an
/// optional member is left out, not sent as null. (The nullable ones, such as
/// `validationMode`, are read from ``object`` by their route.)
struct AdminBody {
    /// Large enough for a SendLocalList of several thousand entries.
    static let maximumSize = 1 << 20

    let object: JSONObject

    init(_ request: Request, allowed: Set<String>) async throws {
        var request = request
        let bytes: ByteBuffer
        do {
            bytes = try await request.collectBody(upTo: Self.maximumSize)
        } catch {
            throw AdminError(
                status: .contentTooLarge, code: "too_large", message: "the body is larger than 1 MiB")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes.readableBytesView)
        } catch {
            throw AdminError.badRequest("the body is not JSON: \(error)")
        }
        guard case .object(let object) = value else { throw AdminError.badRequest("the body must be a JSON object") }
        for (key, _) in object.members where !allowed.contains(key) {
            throw AdminError.badRequest("unknown member \(key)", field: key)
        }
        for (key, member) in object.members where Self.holdsNUL(member) {
            throw AdminError.badRequest("\(key) holds U+0000, which no string may hold", field: key)
        }
        self.object = object
    }

    func string(_ key: String, maxLength: Int) throws(AdminError) -> String? {
        switch object[key] {
        case nil: return nil
        case .string(let value)?:
            guard !value.isEmpty, value.unicodeScalars.count <= maxLength else {
                throw .badRequest("\(key) must be 1 to \(maxLength) characters", field: key)
            }
            return value
        case .null?: throw Self.null(key, "a string")
        default: throw .badRequest("\(key) must be a string", field: key)
        }
    }

    func requiredString(_ key: String, maxLength: Int) throws(AdminError) -> String {
        guard let value = try string(key, maxLength: maxLength) else {
            throw .badRequest("\(key) is required", field: key)
        }
        return value
    }

    func time(_ key: String) throws(AdminError) -> Date? {
        guard let text = try string(key, maxLength: 64) else { return nil }
        guard let date = RFC3339.parse(text) else {
            throw .badRequest("\(key) must be an RFC 3339 time such as 2026-11-25T13:00:00Z", field: key)
        }
        return date
    }

    func choice(_ key: String, in allowed: [String]) throws(AdminError) -> String? {
        guard let value = try string(key, maxLength: 64) else { return nil }
        guard allowed.contains(value) else {
            throw .badRequest("\(key) must be one of: \(allowed.joined(separator: ", "))", field: key)
        }
        return value
    }

    func boolean(_ key: String) throws(AdminError) -> Bool? {
        switch object[key] {
        case nil: return nil
        case .bool(let value)?: return value
        case .null?: throw Self.null(key, "true or false")
        default: throw .badRequest("\(key) must be true or false", field: key)
        }
    }

    func object(_ key: String) throws(AdminError) -> JSONObject? {
        switch object[key] {
        case nil: return nil
        case .object(let value)?: return value
        case .null?: throw Self.null(key, "a JSON object")
        default: throw .badRequest("\(key) must be a JSON object", field: key)
        }
    }

    /// PostgreSQL stores no U+0000 in text or jsonb: refused here, not failed on there.
    static func holdsNUL(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let text): text.utf8.contains(0)
        case .array(let items): items.contains(where: holdsNUL)
        case .object(let object): object.members.contains { $0.key.utf8.contains(0) || holdsNUL($0.value) }
        default: false
        }
    }

    private static func null(_ key: String, _ expected: String) -> AdminError {
        .badRequest("\(key) must be \(expected), not null (leave it out instead)", field: key)
    }
}
