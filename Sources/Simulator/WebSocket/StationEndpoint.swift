import Foundation

/// Where stations connect: a `ws://` or `wss://` URL of the central system.
///
/// In station mode the URL ends with the station's identity
/// (`ws://localhost:3000/ocpp/DEMO-STATION`); in load mode it is the endpoint's base
/// (`ws://localhost:3000/ocpp`) and each station appends its own.
struct StationEndpoint: Sendable, Hashable, CustomStringConvertible {
    var useTLS: Bool
    var host: String
    var port: Int
    /// The path without a trailing slash, e.g. `/ocpp`.
    var basePath: String

    init(url: String) throws(SimulatorError) {
        let scheme: Substring
        let rest: Substring
        if let separator = url.range(of: "://") {
            scheme = url[..<separator.lowerBound]
            rest = url[separator.upperBound...]
        } else {
            throw SimulatorError("the URL '\(url)' has no scheme: use ws://HOST:PORT/PATH or wss://...")
        }
        switch scheme.lowercased() {
        case "ws": useTLS = false
        case "wss": useTLS = true
        default: throw SimulatorError("the URL '\(url)' must start with ws:// or wss://")
        }
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        guard !authority.isEmpty, !authority.contains("@") else {
            throw SimulatorError("the URL '\(url)' needs a host (credentials go in --password)")
        }
        if authority.hasPrefix("[") {
            // An IPv6 literal: [::1]:3000
            guard let close = authority.firstIndex(of: "]") else { throw SimulatorError("bad IPv6 host in '\(url)'") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            port = try Self.port(after, default: useTLS ? 443 : 80, url: url)
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = try Self.port(authority[colon...], default: useTLS ? 443 : 80, url: url)
        } else {
            host = String(authority)
            port = useTLS ? 443 : 80
        }
        guard !host.isEmpty else { throw SimulatorError("the URL '\(url)' needs a host") }
        var trimmed = String(path)
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        basePath = trimmed
    }

    private static func port(_ text: Substring, default fallback: Int, url: String) throws(SimulatorError) -> Int {
        guard !text.isEmpty else { return fallback }
        guard text.first == ":", let port = Int(text.dropFirst()), (1...65535).contains(port) else {
            throw SimulatorError("bad port in '\(url)'")
        }
        return port
    }

    /// Splits a station URL into the endpoint and the identity (its last path segment).
    static func splitStationURL(_ url: String) throws(SimulatorError) -> (endpoint: StationEndpoint, identity: String) {
        var endpoint = try StationEndpoint(url: url)
        guard let slash = endpoint.basePath.lastIndex(of: "/"),
            case let identity = String(endpoint.basePath[endpoint.basePath.index(after: slash)...]), !identity.isEmpty
        else {
            throw SimulatorError(
                "the URL '\(url)' must end with the station identity, e.g. ws://localhost:3000/ocpp/CP-1")
        }
        endpoint.basePath = String(endpoint.basePath[..<slash])
        return (endpoint, identity)
    }

    /// The request path of one station's connection.
    func path(for identity: String) -> String {
        "\(basePath)/\(Self.percentEncoded(identity))"
    }

    /// Identities may contain characters a path must escape (OCPP-J 1.6 §3.1.1).
    private static func percentEncoded(_ identity: String) -> String {
        var encoded = ""
        for byte in identity.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                encoded += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return encoded
    }

    var description: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return "\(useTLS ? "wss" : "ws")://\(bracketed):\(port)\(basePath)"
    }
}
