import Foundation
import Hummingbird
import PostgresNIO
import Shared

/// A station's password for HTTP Basic authentication (security profiles 1 and 2):
/// set it, or rotate it by pushing the new AuthorizationKey to the station.
struct CredentialRoutes {
    let environment: AdminEnvironment

    var routes: [AdminRoute] {
        [AdminRoute(.put, "/api/v1/stations/{identity}/password", handler: setPassword)]
    }

    /// The whitepaper's AuthorizationKey: 16 to 20 bytes. Printable ASCII keeps it
    /// the same in the Basic header, in the hash and in the hex sent to the station.
    static let passwordLength = 16...20
    static let generatedAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// Without `push`, the password is the station's at once (it has been configured on
    /// the station some other way). With `push`, it is sent as ChangeConfiguration
    /// AuthorizationKey (hex) and becomes the only one once the station accepts it;
    /// until then the gateways take the old and the new one.
    @Sendable func setPassword(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let identity = try context.pathParameter("identity")
        let body = try await AdminBody(request, allowed: ["password", "push"])
        let given = try body.string("password", maxLength: Self.passwordLength.upperBound)
        let push = try body.boolean("push") ?? false
        if let given {
            guard Self.passwordLength.contains(given.utf8.count), given.allSatisfy({ $0.isASCII && !$0.isWhitespace })
            else {
                throw AdminError.badRequest(
                    "password must be 16 to 20 printable ASCII characters without spaces", field: "password")
            }
        }
        let password = given ?? Self.generate()
        let hash = try PasswordHash.make(password: password)
        let answer =
            push ? try await rotate(identity, password: password, hash: hash) : try await set(identity, hash: hash)
        guard var answer else { throw AdminError.notFound("no station \(identity)") }
        // A password the API made up is shown once, so it can be configured elsewhere.
        if given == nil { answer.members.append((key: "password", value: .string(password))) }
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
    private func rotate(_ identity: String, password: String, hash: String) async throws -> JSONObject? {
        let key = password.utf8.map { String(format: "%02X", $0) }.joined()
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

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(
            (0..<Self.passwordLength.upperBound).map { _ in generatedAlphabet.randomElement(using: &generator)! })
    }
}
