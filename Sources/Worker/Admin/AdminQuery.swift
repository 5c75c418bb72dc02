import Foundation
import Hummingbird
import OCPP
import Shared

/// The query parameters of one admin request, read with the route's rules: a
/// parameter the route does not know, a number out of range or a malformed time is a
/// 400 naming the parameter, never silently ignored.
struct AdminQuery {
    private let parameters: [String: String]

    init(_ request: Request, allowed: Set<String>) throws(AdminError) {
        var parameters: [String: String] = [:]
        for (name, value) in request.uri.queryParameters {
            let name = String(name)
            guard allowed.contains(name) else {
                let known = allowed.sorted().joined(separator: ", ")
                throw .badRequest(
                    "unknown query parameter \(name)" + (known.isEmpty ? "" : " (known: \(known))"), field: name)
            }
            guard parameters[name] == nil else { throw .badRequest("\(name) is given twice", field: name) }
            guard !value.utf8.contains(0) else {
                throw .badRequest("\(name) holds U+0000, which no string may hold", field: name)
            }
            parameters[name] = String(value)
        }
        self.parameters = parameters
    }

    func string(_ name: String, maxLength: Int = 255) throws(AdminError) -> String? {
        guard let value = parameters[name] else { return nil }
        guard !value.isEmpty, value.unicodeScalars.count <= maxLength else {
            throw .badRequest("\(name) must be 1 to \(maxLength) characters", field: name)
        }
        return value
    }

    func integer(_ name: String, range: ClosedRange<Int>) throws(AdminError) -> Int? {
        guard let text = parameters[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw .badRequest(
                "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)", field: name)
        }
        return value
    }

    func boolean(_ name: String) throws(AdminError) -> Bool? {
        switch parameters[name] {
        case nil: return nil
        case "true": return true
        case "false": return false
        default: throw .badRequest("\(name) must be true or false", field: name)
        }
    }

    /// An RFC 3339 time such as `2026-11-25T13:00:00Z`.
    func time(_ name: String) throws(AdminError) -> Date? {
        guard let text = parameters[name] else { return nil }
        guard let date = RFC3339.parse(text) else {
            throw .badRequest("\(name) must be an RFC 3339 time such as 2026-11-25T13:00:00Z", field: name)
        }
        return date
    }

    func choice(_ name: String, in allowed: [String]) throws(AdminError) -> String? {
        guard let value = parameters[name] else { return nil }
        guard allowed.contains(value) else {
            throw .badRequest("\(name) must be one of: \(allowed.joined(separator: ", "))", field: name)
        }
        return value
    }

    /// Page size: `limit`, 1 to 1000, default 100.
    func limit() throws(AdminError) -> Int {
        try integer("limit", range: 1...PageQuery.maximumLimit) ?? PageQuery.defaultLimit
    }

    /// The `after` cursor a previous page returned as `next`; empty (`after=`, as a
    /// form or a client that always sends it writes it) is the first page.
    func cursor() throws(AdminError) -> PageCursor? {
        guard let text = parameters["after"], !text.isEmpty else { return nil }
        guard let cursor = PageCursor(encoded: text) else {
            throw .badRequest("after must be the next value of a previous page", field: "after")
        }
        return cursor
    }
}
