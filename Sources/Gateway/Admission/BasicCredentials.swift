import Foundation

/// HTTP Basic credentials (RFC 7617) from an `Authorization` header value.
struct BasicCredentials: Sendable, Equatable {
    var username: String
    var password: String

    /// Nil when the value is not `Basic <base64 of user:password>`.
    init?(authorizationHeader value: String) {
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        username = String(text[..<colon])
        password = String(text[text.index(after: colon)...])
    }
}
