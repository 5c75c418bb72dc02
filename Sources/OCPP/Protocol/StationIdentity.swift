import Foundation

/// The charge point identity: in a connection URL (`/ocpp/{identity}` or
/// `/v1/ocpp/{identity}`) and wherever operators name a station.
///
/// After percent-decoding, an identity has 1 to 48 characters from `A–Z a–z 0–9`
/// and `- . _ ~ * + @ |`. The limit is OCPP 2.0.1's (1.6 sets none); the set keeps
/// identities safe in URLs, logs and NOTIFY payloads, and leaves out `:`, which
/// would break the HTTP Basic username (`identity:password`).
public enum StationIdentity {
    public static let maximumLength = 48
    /// The rule in words, for messages that refuse an identity.
    public static let rule = "1 to 48 characters from A-Z a-z 0-9 - . _ ~ * + @ |"
    public static let prefixes = ["/ocpp/", "/v1/ocpp/"]

    public enum Failure: Error, Equatable {
        /// The path is not one of the OCPP endpoints.
        case notAnOCPPPath
        /// The identity is empty, too long, badly escaped or has a character outside the set.
        case invalidIdentity
    }

    /// The identity in `path` (a query string is ignored).
    public static func parse(path: String) throws(Failure) -> String {
        let pathOnly =
            path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard let prefix = prefixes.first(where: { pathOnly.hasPrefix($0) }) else { throw .notAnOCPPPath }
        let encoded = pathOnly.dropFirst(prefix.count)
        guard !encoded.isEmpty, !encoded.contains("/") else { throw .invalidIdentity }
        guard let identity = String(encoded).removingPercentEncoding, isValid(identity) else {
            throw .invalidIdentity
        }
        return identity
    }

    public static func isValid(_ identity: String) -> Bool {
        guard (1...maximumLength).contains(identity.unicodeScalars.count) else { return false }
        return identity.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "-", ".", "_", "~", "*", "+", "@", "|": true
            default: false
            }
        }
    }
}
