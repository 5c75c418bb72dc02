// libFuzzer target over the project's own parsing of a WebSocket upgrade request.
//
// The HTTP request itself is parsed by SwiftNIO (llhttp), not by this project. What
// the project parses itself, before the upgrade (HandshakePolicy.decide), is:
//
// - the request path -> the charge point identity: `StationIdentity.parse(path:)`
//   (Sources/OCPP/Protocol/StationIdentity.swift);
// - the `Authorization` header -> HTTP Basic credentials:
//   `BasicCredentials(authorizationHeader:)` (Sources/Gateway/Admission/BasicCredentials.swift).
//
// Both import only Foundation and are compiled here as they are. The
// `Sec-WebSocket-Protocol` list is split inline in `HandshakePolicy.decide`, on
// Hummingbird's `HTTPFields`, next to database calls; it is not a function of its own
// and is not fuzzed (see docs/FUZZING.md).
//
// Input layout: `path \n authorization-header-value \n user:password` (the parts are
// optional). The third part is raw credentials from which a well-formed Basic header
// is built, so that the decoder is exercised past base64 without the fuzzer having
// to find valid base64 by itself.

import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func upgradeFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: size == 0 ? nil : data, count: size))
    let parts = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
    // Header values and paths reach the gateway as Swift Strings (repaired UTF-8).
    let path = String(decoding: parts[0], as: UTF8.self)
    let authorization = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : nil
    let credentials = parts.count > 2 ? Array(parts[2]) : nil

    UpgradeFuzz.checkPath(path)
    UpgradeFuzz.checkIdentityValidation(path)
    if let authorization { UpgradeFuzz.checkAuthorization(authorization) }
    if let credentials { UpgradeFuzz.checkCredentials(credentials) }
    return 0
}

enum UpgradeFuzz {
    /// The identity alphabet of docs/GATEWAY.md, all ASCII.
    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "*"),
            UInt8(ascii: "+"), UInt8(ascii: "@"), UInt8(ascii: "|"):
            true
        default:
            false
        }
    }

    // MARK: Path -> identity

    static func checkPath(_ path: String) {
        let pathOnly = String(path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        let hasPrefix = StationIdentity.prefixes.contains { pathOnly.hasPrefix($0) }
        do {
            let identity = try StationIdentity.parse(path: path)
            check(hasPrefix, "an identity was read from a path that is not an OCPP endpoint")
            check(StationIdentity.isValid(identity), "parse returned an identity isValid refuses")
            let utf8 = Array(identity.utf8)
            check((1...StationIdentity.maximumLength).contains(utf8.count), "identity of \(utf8.count) bytes")
            check(utf8.allSatisfy(isAllowed), "identity with a character outside the alphabet")
            check(!identity.contains(":"), "identity with ':' would break the Basic username")

            // Every spelling of the same identity reads the same: plain, with a query,
            // under either prefix, and with every byte percent-encoded.
            let encoded = utf8.map { String(format: "%%%02X", $0) }.joined()
            for prefix in StationIdentity.prefixes {
                for spelling in [identity, identity + "?a=b&c", encoded, encoded.lowercased()] {
                    let again = try? StationIdentity.parse(path: prefix + spelling)
                    check(again == identity, "\(prefix)\(spelling) does not read as the same identity")
                }
            }
        } catch .notAnOCPPPath {
            check(!hasPrefix, "an OCPP endpoint path was called not an OCPP endpoint")
        } catch {
            check(hasPrefix, "a path that is not an OCPP endpoint was called an invalid identity")
        }
    }

    /// `isValid` against a byte-level statement of the rule (the alphabet is ASCII,
    /// so characters, scalars and bytes count alike).
    static func checkIdentityValidation(_ text: String) {
        let utf8 = Array(text.utf8)
        let expected = (1...StationIdentity.maximumLength).contains(utf8.count) && utf8.allSatisfy(isAllowed)
        check(StationIdentity.isValid(text) == expected, "isValid(\(text.debugDescription)) is not \(expected)")
    }

    // MARK: Authorization header

    static func checkAuthorization(_ header: String) {
        guard let credentials = BasicCredentials(authorizationHeader: header) else { return }
        check(!credentials.username.contains(":"), "a Basic username with ':'")
        // What was read is what a client sending these credentials would have sent.
        let rebuilt = "Basic " + Data((credentials.username + ":" + credentials.password).utf8).base64EncodedString()
        check(
            BasicCredentials(authorizationHeader: rebuilt) == credentials,
            "credentials re-encoded read differently")
    }

    static func checkCredentials(_ raw: [UInt8]) {
        let encoded = Data(raw).base64EncodedString()
        let text = String(validating: raw, as: UTF8.self)
        for scheme in ["Basic", "basic", "BASIC"] {
            for header in ["\(scheme) \(encoded)", "\(scheme) \(encoded) "] {
                let credentials = BasicCredentials(authorizationHeader: header)
                guard let text else {
                    check(credentials == nil, "credentials read from ill-formed UTF-8")
                    continue
                }
                guard let colon = text.firstIndex(of: ":") else {
                    check(credentials == nil, "credentials read from user-pass without ':'")
                    continue
                }
                check(
                    credentials?.username == String(text[..<colon])
                        && credentials?.password == String(text[text.index(after: colon)...]),
                    "Basic credentials misread")
            }
        }
    }
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError("fuzz invariant broken: \(message())", file: file, line: line) }
}
