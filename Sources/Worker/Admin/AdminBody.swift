import Foundation
import Hummingbird
import Shared

/// A JSON object sent to the admin API, read member by member. Members the route
/// does not define are refused (a typo such as `colapseKey` would otherwise be lost).
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
        self.object = object
    }

    func string(_ key: String, maxLength: Int) throws(AdminError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?:
            guard !value.isEmpty, value.count <= maxLength else {
                throw .badRequest("\(key) must be 1 to \(maxLength) characters", field: key)
            }
            return value
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
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw .badRequest("\(key) must be true or false", field: key)
        }
    }

    func object(_ key: String) throws(AdminError) -> JSONObject? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let value)?: return value
        default: throw .badRequest("\(key) must be a JSON object", field: key)
        }
    }
}
