import Foundation
import Hummingbird
import Logging
import OCPP
import Shared

/// Decides, before the upgrade, whether a station may connect: the identity in the
/// URL, the subprotocol, HTTP Basic credentials (security profile 1), the station's
/// own security profile and the registration policy for identities the database does
/// not know.
struct HandshakePolicy: Sendable {
    static let subprotocol = "ocpp1.6"

    /// How the listener a connection arrived on protects it.
    enum Listener: String, Sendable {
        /// `ws://`: profile 0, or 1 when the station's password is checked.
        case plain
        /// `wss://` without client certificates: profile 2 (Basic inside TLS).
        case tls = "TLS"
        /// `wss://` with a verified client certificate of the station's own: profile 3.
        case mutualTLS = "mutual TLS"
    }

    let auth: GatewaySettings.AuthMode
    let registration: GatewaySettings.RegistrationPolicy
    let stations: any StationStore
    let verifyPassword: @Sendable (_ password: String, _ storedHash: String) async -> Bool
    /// The listener this policy decides for.
    private(set) var listener = Listener.plain

    /// Whether the TLS layer has already authenticated the station by its client
    /// certificate (security profile 3), so that no password is asked for.
    var certificateAuthenticated: Bool { listener == .mutualTLS }

    init(
        auth: GatewaySettings.AuthMode, registration: GatewaySettings.RegistrationPolicy,
        stations: any StationStore,
        verifyPassword: @escaping @Sendable (_ password: String, _ storedHash: String) async -> Bool
    ) {
        self.auth = auth
        self.registration = registration
        self.stations = stations
        self.verifyPassword = verifyPassword
    }

    /// The policy for a listener where TLS client certificates authenticate stations
    /// (security profile 3): no Basic password is asked for, and an identity the database
    /// does not know follows the registration policy.
    func authenticatedByCertificate() -> HandshakePolicy {
        var policy = self
        policy.listener = .mutualTLS
        return policy
    }

    /// The policy for a TLS listener without client certificates (security profile 2).
    func overTLS() -> HandshakePolicy {
        var policy = self
        policy.listener = .tls
        return policy
    }

    /// The security profile a connection to this listener reaches: 3 with a client
    /// certificate, 2 or 1 when the password is checked (inside TLS or not), else 0.
    func offeredProfile(passwordChecked: Bool) -> Int {
        switch listener {
        case .mutualTLS: 3
        case .tls: passwordChecked ? 2 : 0
        case .plain: passwordChecked ? 1 : 0
        }
    }

    /// Whether a station must send its password: always when it has one (whatever the
    /// mode: a stored password is never optional), and under `basic` also when it has
    /// none (it is then refused), unless its certificate authenticated it.
    func requiresPassword(_ record: StationRecord) -> Bool {
        !certificateAuthenticated && (auth == .basic || !record.passwordHashes.isEmpty)
    }

    func decide(path: String, headers: HTTPFields, logger: Logger) async -> HandshakeDecision {
        let identity: String
        do {
            identity = try StationIdentity.parse(path: path)
        } catch .notAnOCPPPath {
            return .refuse(.notFound, reason: "not an OCPP endpoint")
        } catch {
            return .refuse(.badRequest, reason: "invalid charge point identity")
        }
        var logger = logger
        logger[metadataKey: "station"] = "\(identity)"

        let record: StationRecord
        do {
            if let known = try await stations.find(identity: identity) {
                record = known
            } else {
                switch registration {
                case .known:
                    return .refuse(.notFound, reason: "unknown charge point")
                case _ where auth == .basic && !certificateAuthenticated:
                    // An unknown station has no password to check against.
                    return .refuse(.unauthorized, reason: "unknown charge point")
                case .open:
                    record = try await stations.register(identity: identity, status: .accepted)
                case .pending:
                    record = try await stations.register(identity: identity, status: .pending)
                }
                logger.info("registered new charge point as \(record.registrationStatus.rawValue)")
            }
        } catch {
            logger.warning("station lookup failed: \(String(reflecting: error))")
            return .refuse(.serviceUnavailable, reason: "database unavailable")
        }

        // Before the password: a station that may not use this listener is refused
        // whatever it sent (no downgrade, and no password check it could not pass anyway).
        let passwordChecked = requiresPassword(record)
        let offered = offeredProfile(passwordChecked: passwordChecked)
        if let required = record.securityProfile, offered < required {
            return .refuse(
                .forbidden,
                reason:
                    "security profile \(required) required for station \(identity), the \(listener.rawValue) listener offers \(offered)"
            )
        }

        if passwordChecked {
            guard let header = headers[.authorization], let credentials = BasicCredentials(authorizationHeader: header)
            else { return .refuse(.unauthorized, reason: "missing Basic credentials") }
            guard credentials.username == identity else {
                return .refuse(.unauthorized, reason: "Basic username does not equal the identity")
            }
            // The forms the same secret takes (a key's hex digits in any case, the text a
            // pushed key stands for), checked against the current and the pending hash.
            let candidates = StationPassword.candidates(for: credentials.password)
            var matchedHash: String?
            search: for hash in record.passwordHashes {
                for candidate in candidates where await verifyPassword(candidate, hash) {
                    matchedHash = hash
                    break search
                }
            }
            guard let matched = matchedHash else {
                return .refuse(
                    .unauthorized, reason: record.passwordHashes.isEmpty ? "no password set" : "wrong password")
            }
            if let pending = record.pendingPasswordHash, matched == pending {
                do {
                    try await stations.completePasswordRotation(stationID: record.id, pendingHash: pending)
                    logger.info("password rotation completed: the station logged in with its new key")
                } catch {
                    // The old and the new key keep working; the next login tries again.
                    logger.warning("could not complete the password rotation: \(String(reflecting: error))")
                }
            }
        }

        let selected = Self.selectSubprotocol(headers)
        return .accept(
            StationContext(stationID: record.id, identity: identity, validationMode: record.validationMode),
            record.registrationStatus, subprotocol: selected)
    }

    /// `ocpp1.6` if the station offers it, else nil (the handshake then completes
    /// without the header and the connection is closed, as OCPP-J section 3 says).
    ///
    /// Read as HTTP reads a list (RFC 9110 section 5.6.1), which is also what real
    /// chargers need: the values of every `Sec-WebSocket-Protocol` line, split at
    /// commas, with spaces and tabs around each element and empty elements
    /// (`, ocpp1.6`, `ocpp1.6,`) ignored. Names stay case-sensitive (RFC 6455).
    static func selectSubprotocol(_ headers: HTTPFields) -> String? {
        let offered = headers[values: .secWebSocketProtocol].flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        return offered.contains(subprotocol) ? subprotocol : nil
    }
}
