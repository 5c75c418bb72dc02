import Foundation
import Hummingbird
import OCPP
import Shared

/// The web console's sessions: a signed cookie value, `v1.<expiry>.<nonce>.<mac>`,
/// the MAC an HMAC-SHA256 under a key derived from the admin token. Any worker with
/// the same token recognises it, so a session outlives a worker restart (the live
/// page reconnects) and works behind several workers; changing the token signs
/// everyone out. The token itself is never put in a cookie. Signing out revokes the
/// nonce in this process's memory until the session would have expired.
actor ConsoleSessions {
    struct Session: Sendable, Equatable {
        /// The cookie's value.
        let id: String
        /// Sent back in a hidden field of every state-changing form, and checked;
        /// derived from the session, so it needs no storage.
        let csrfToken: String
        let expiresAt: Date
    }

    /// How long a session lasts after signing in.
    let lifetime: TimeInterval
    private let key: String
    private let now: @Sendable () -> Date
    private var revoked: [String: Date] = [:]

    init(token: String, lifetime: TimeInterval = 12 * 3600, now: @escaping @Sendable () -> Date = Date.init) {
        self.key = MessageAuthentication.encodedCode(key: token, message: "ocpp-console-session-key")
        self.lifetime = lifetime
        self.now = now
    }

    /// A new session for an operator who gave the right token.
    func create() -> Session {
        let expiry = Int64(now().addingTimeInterval(lifetime).timeIntervalSince1970)
        let nonce = ConsoleSecurity.randomToken()
        let body = "v1.\(expiry).\(nonce)"
        return session(body: body, nonce: nonce, expiry: expiry)
    }

    /// The session a cookie value stands for; nil when forged, expired or signed out.
    func session(id: String) -> Session? {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let expiry = Int64(parts[1]), parts[2].count == 43 else {
            return nil
        }
        let body = parts[0...2].joined(separator: ".")
        let expected = MessageAuthentication.encodedCode(key: key, message: "session|" + body)
        guard ConsoleSecurity.constantTimeEquals(String(parts[3]), expected) else { return nil }
        let current = now()
        guard Date(timeIntervalSince1970: TimeInterval(expiry)) > current else { return nil }
        let nonce = String(parts[2])
        guard revoked[nonce] == nil else { return nil }
        return session(body: body, nonce: nonce, expiry: expiry)
    }

    /// Signs a session out: its cookie is refused from now on (in this process).
    func remove(id: String) {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, let expiry = Int64(parts[1]) else { return }
        let current = now()
        revoked = revoked.filter { $0.value > current }
        revoked[String(parts[2])] = Date(timeIntervalSince1970: TimeInterval(expiry))
    }

    private func session(body: String, nonce: String, expiry: Int64) -> Session {
        Session(
            id: body + "." + MessageAuthentication.encodedCode(key: key, message: "session|" + body),
            csrfToken: MessageAuthentication.encodedCode(key: key, message: "csrf|" + nonce),
            expiresAt: Date(timeIntervalSince1970: TimeInterval(expiry)))
    }
}

/// The pure rules of the console's security: tokens, the sign-in check, the cookie,
/// and the checks against cross-site request forgery.
enum ConsoleSecurity {
    static let cookieName = "ocpp_console"

    /// 32 random bytes, base64url without padding (43 characters).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Compares in time independent of where the first difference is.
    static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        BearerTokenMiddleware<BasicRequestContext>.constantTimeEquals(Array(lhs.utf8), Array(rhs.utf8))
    }

    /// The Set-Cookie value of a session; `secure` when the console is reached over TLS.
    static func sessionCookie(_ session: ConsoleSessions.Session, lifetime: TimeInterval, secure: Bool) -> String {
        "\(cookieName)=\(session.id); Path=/; Max-Age=\(Int(lifetime)); HttpOnly; SameSite=Strict"
            + (secure ? "; Secure" : "")
    }

    /// The Set-Cookie value that removes the session cookie.
    static func clearedCookie(secure: Bool) -> String {
        "\(cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The session cookie's value from a Cookie header, if it carries one.
    static func sessionID(cookieHeader: String?) -> String? {
        guard let cookieHeader else { return nil }
        for part in cookieHeader.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            guard pair.hasPrefix(cookieName + "=") else { continue }
            let value = String(pair.dropFirst(cookieName.count + 1))
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// A state-changing form is accepted only with the session's token, and, when the
    /// browser says where the request comes from (Origin), only from this very site.
    static func isSameOriginForm(
        csrfField: String?, session: ConsoleSessions.Session, origin: String?, host: String?
    ) -> Bool {
        guard let csrfField, constantTimeEquals(csrfField, session.csrfToken) else { return false }
        return isSameOrigin(origin: origin, host: host)
    }

    /// No Origin header (an older browser) passes; one that is present must name
    /// this host (`null`, sent from sandboxed or privacy-sensitive contexts, does not).
    static func isSameOrigin(origin: String?, host: String?) -> Bool {
        guard let origin else { return true }
        guard let host, origin != "null", let url = URL(string: origin), let originHost = url.host else { return false }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        return originAuthority.lowercased() == host.lowercased()
    }
}
