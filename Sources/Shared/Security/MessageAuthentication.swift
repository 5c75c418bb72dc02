import Crypto
import Foundation

/// HMAC-SHA256, for values a process hands out and must later recognise as its own
/// (the web console's session cookies).
public enum MessageAuthentication {
    public static func code(key: some StringProtocol, message: some StringProtocol) -> [UInt8] {
        let key = SymmetricKey(data: Data(key.utf8))
        return Array(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key))
    }

    /// The code as base64url without padding.
    public static func encodedCode(key: some StringProtocol, message: some StringProtocol) -> String {
        Data(code(key: key, message: message)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
