import Foundation
import Hummingbird
import NIOPosix
import OCPP
import PostgresNIO
import Shared

/// A station's password for HTTP Basic authentication (security profiles 1 and 2):
/// set it, or rotate it by pushing the new AuthorizationKey to the station.
struct CredentialRoutes {
    let environment: AdminEnvironment

    var routes: [AdminRoute] {
        [AdminRoute(.put, "/api/v1/stations/{identity}/password", handler: setPassword)]
    }

    /// The secret is a `password` (16 to 40 printable ASCII characters) or an
    /// `authorizationKey` (16 to 20 bytes as 32 to 40 hex digits, stored upper-case);
    /// neither: a password is made up and returned once (see ``StationPassword``).
    /// Without `push`, it is the station's at once (configured on the station some
    /// other way). With `push`, it is sent as ChangeConfiguration AuthorizationKey
    /// (hex) and becomes the only one once the station has it (accepted, or after a
    /// RebootRequired when the station connects with it); until then the gateways
    /// take the old and the new one.
    /// The one rule of a password, as the OpenAPI document states it (`PasswordRequest`).
    static let passwordRule =
        "password must be 16 to 40 printable ASCII characters without spaces (16 to 20 when pushed)"

    @Sendable func setPassword(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let identity = try context.pathParameter("identity")
        let body = try await AdminBody(request, allowed: ["password", "authorizationKey", "push"])
        let given: String?
        switch body.object["password"] {
        case nil: given = nil
        case .string(let text)? where StationPassword.isValidPassword(text): given = text
        case .null?:
            throw AdminError.badRequest("password must be a string, not null (leave it out instead)", field: "password")
        default: throw AdminError.badRequest(Self.passwordRule, field: "password")
        }
        let givenKey = try body.string("authorizationKey", maxLength: 2 * StationPassword.keyByteCount.upperBound)
        let push = try body.boolean("push") ?? false
        guard given == nil || givenKey == nil else {
            throw AdminError.badRequest("give a password or an authorizationKey, not both", field: "authorizationKey")
        }
        let key = try givenKey.map { text throws(AdminError) in
            guard let key = StationPassword.authorizationKey(text) else {
                throw AdminError.badRequest(
                    "authorizationKey must be 16 to 20 bytes written as 32 to 40 hexadecimal digits",
                    field: "authorizationKey")
            }
            return key
        }
        // What the station will send, and what is hashed: the key's hex digits, or the text.
        // A chosen secret gets the slow hash; a made-up one cannot be guessed and gets the
        // fast one (see PasswordHash).
        let chosen = key ?? given
        let secret = chosen ?? StationPassword.generate()
        // scrypt takes tens of milliseconds: off the event loops that run the tasks.
        let hash = try await NIOThreadPool.singleton.runIfActive {
            try chosen.map { try PasswordHash.make(password: $0) } ?? PasswordHash.make(generatedSecret: secret)
        }
        var answer: JSONObject?
        if push {
            // ChangeConfiguration AuthorizationKey carries at most 20 bytes.
            guard let pushed = key ?? StationPassword.authorizationKey(forPassword: secret) else {
                throw AdminError.badRequest(
                    "password must be 16 to 20 printable ASCII characters without spaces when pushed (an AuthorizationKey holds 20 bytes at most)",
                    field: "password")
            }
            answer = try await rotate(identity, key: pushed, hash: hash)
        } else {
            answer = try await set(identity, hash: hash)
        }
        guard var answer else { throw AdminError.notFound("no station \(identity)") }
        // A password the API made up is shown once, so it can be configured elsewhere.
        if chosen == nil { answer.members.append((key: "password", value: .string(secret))) }
        var writer = JSONWriter()
        writer.value(.object(answer))
        return .json(writer.string, status: push ? .accepted : .ok)
    }

    private func set(_ identity: String, hash: String) async throws -> JSONObject? {
        let updated = try await environment.json(
            """
            UPDATE ocpp.stations
            SET password_hash = \(hash), pending_password_hash = NULL, password_changed_at = now(), updated_at = now()
            WHERE identity = \(identity)
            RETURNING identity
            """)
        guard updated != nil else { return nil }
        return JSONObject([(key: "identity", value: .string(identity)), (key: "pushed", value: false)])
    }

    /// The pending hash and the command in one statement: both or neither.
    private func rotate(_ identity: String, key: String, hash: String) async throws -> JSONObject? {
        let command = try OutboundCommand(ChangeConfigurationRequest(key: "AuthorizationKey", value: key))
        var payload = JSONWriter()
        payload.value(.object(command.payload))
        let messageID = try await environment.json(
            """
            WITH station AS (
                UPDATE ocpp.stations SET pending_password_hash = \(hash), updated_at = now()
                WHERE identity = \(identity)
                RETURNING identity
            )
            SELECT ocpp.enqueue_call(identity, 'ChangeConfiguration', \(payload.string)::jsonb,
                                     'config:AuthorizationKey')
            FROM station
            """)
        guard let messageID else { return nil }
        return JSONObject([
            (key: "identity", value: .string(identity)), (key: "pushed", value: true),
            (key: "messageId", value: .string(messageID)),
        ])
    }
}
