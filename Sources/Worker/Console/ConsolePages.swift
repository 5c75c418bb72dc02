import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import OCPP
import Shared

/// The console's templates and static files, read once from the worker's resource
/// bundle (`Console/Templates/*.mustache`, `Console/Static/*`).
struct ConsolePages: Sendable {
    let library: MustacheLibrary
    /// File name to (content type, bytes).
    let files: [String: (contentType: String, body: String)]

    init() throws {
        var library = MustacheLibrary()
        var files: [String: (contentType: String, body: String)] = [:]
        let manager = FileManager.default
        if let templates = Bundle.module.url(forResource: "Templates", withExtension: nil) {
            for name in try manager.contentsOfDirectory(atPath: templates.path) where name.hasSuffix(".mustache") {
                let text = try String(contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
                try library.register(text, named: String(name.dropLast(".mustache".count)))
            }
        }
        if let statics = Bundle.module.url(forResource: "Static", withExtension: nil) {
            for name in try manager.contentsOfDirectory(atPath: statics.path) {
                let type =
                    switch (name as NSString).pathExtension {
                    case "css": "text/css; charset=utf-8"
                    case "js": "text/javascript; charset=utf-8"
                    case "svg": "image/svg+xml"
                    default: "application/octet-stream"
                    }
                files[name] = (type, try String(contentsOf: statics.appendingPathComponent(name), encoding: .utf8))
            }
        }
        self.library = library
        self.files = files
    }

    /// The page `template` with `data`, inside the layout (navigation, sign-out form).
    func render(_ template: String, title: String, data: [String: Any], session: ConsoleSessions.Session?) -> String {
        var data = data
        if let session { data["csrf"] = session.csrfToken }
        let content = library.render(data, withTemplate: template) ?? "template \(template) is missing"
        var layout: [String: Any] = ["title": title, "content": content]
        if let session { layout["csrf"] = session.csrfToken }
        layout["nav_" + template] = true
        return library.render(layout, withTemplate: "layout") ?? content
    }
}

/// Database JSON made into values Mustache reads: objects become dictionaries (a
/// null member is left out, so `{{#x}}` is false), arrays become arrays.
enum ConsoleValue {
    static func from(_ value: JSONValue) -> Any {
        switch value {
        case .null: return false
        case .bool(let flag): return flag
        case .integer(let number): return number
        case .double(let number): return number
        case .string(let text): return text
        case .array(let items): return items.map(from)
        case .object(let object):
            var dictionary: [String: Any] = [:]
            for (key, member) in object.members where member != .null { dictionary[key] = from(member) }
            return dictionary
        }
    }

    /// Parses the database's JSON text; an empty dictionary when there is none.
    static func parse(_ text: String?) -> [String: Any] {
        guard let text, let value = try? JSONParser.parse(text), case .object = value else { return [:] }
        return from(value) as? [String: Any] ?? [:]
    }

    static func parseArray(_ text: String?) -> [Any] {
        guard let text, let value = try? JSONParser.parse(text), case .array = value else { return [] }
        return from(value) as? [Any] ?? []
    }
}

extension Response {
    static func html(_ text: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            // Nothing from elsewhere: scripts, styles and images come from this site only.
            .contentSecurityPolicy:
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// 303 See Other: after a form, the browser follows with a GET.
    static func seeOther(_ location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: .seeOther, headers: headers)
    }

    static func download(_ text: String, contentType: String, filename: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: contentType, .contentDisposition: "attachment; filename=\"\(filename)\"",
                .cacheControl: "no-store",
            ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The fields of a submitted form (`application/x-www-form-urlencoded`), or of a
/// query string.
struct ConsoleForm: Sendable {
    var values: [String: String]

    init(values: [String: String]) {
        self.values = values
    }

    init(_ request: Request) async throws {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        self.init(values: Self.parse(String(buffer: body)))
    }

    init(query request: Request) {
        var values: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { values[String(name)] = String(value) }
        self.init(values: values)
    }

    /// A field's value, trimmed; nil when absent or empty.
    subscript(name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            return nil
        }
        return value
    }

    static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (part: Substring) in
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            let name = decode(parts[0])
            guard !name.isEmpty else { continue }
            values[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return values
    }

    /// A time from a `datetime-local` field (taken as UTC) or in RFC 3339.
    static func time(_ text: String?) -> Date? {
        guard let text else { return nil }
        if let date = RFC3339.parse(text) { return date }
        switch text.count {
        case 16: return RFC3339.parse(text + ":00Z")
        case 19: return RFC3339.parse(text + "Z")
        case 10: return RFC3339.parse(text + "T00:00:00Z")
        default: return nil
        }
    }
}
