import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Gateway

/// Station passwords set over the admin API and checked by a gateway with Basic
/// authentication (security profile 1), and a password rotated the whitepaper's
/// way: ChangeConfiguration AuthorizationKey, accepted, then the new one only.
@Suite("Admin API: station passwords", .serialized, .timeLimit(.minutes(2)))
struct AdminCredentialTests {
    /// A fresh database with a gateway that requires Basic auth, an admin API, and
    /// `identity` registered Accepted without a password; both stopped afterwards.
    static func withGatewayAndAdmin(
        registering identity: String,
        _ body: @escaping @Sendable (PostgresClient, GatewayHarness, AdminHarness) async throws -> Void
    ) async throws {
        try await GatewayHarness.withGateway(configure: { $0.auth = .basic }) { client, configuration, gateway in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES (\(identity), 'Accepted')")
            let admin = try await AdminHarness.start(database: configuration)
            do {
                try await body(client, gateway, admin)
            } catch {
                try? await admin.stop()
                throw error
            }
            try await admin.stop()
        }
    }

    static func upgradeStatus(_ port: Int, _ identity: String, _ password: String) async throws -> Int {
        try await RawHTTP.upgrade(
            port: port, path: "/ocpp/\(identity)", authorization: RawHTTP.basic(identity, password)
        ).status
    }

    @Test func aPasswordSetOverTheAPIIsTheOneTheGatewayTakes() async throws {
        try await Self.withGatewayAndAdmin(registering: "CP-1") { client, gateway, admin in
            let set = try await admin.client.send(
                "PUT", "/api/v1/stations/CP-1/password", body: #"{"password":"correct-horse-1234"}"#)
            #expect(set.status == 200)
            #expect(set.json?["password"] == nil, "a given password is never echoed")
            #expect(try await Self.upgradeStatus(gateway.port, "CP-1", "correct-horse-1234") == 101)
            #expect(try await Self.upgradeStatus(gateway.port, "CP-1", "wrong-horse-12345") == 401)
            let stored = try await client.scalar(
                "SELECT password_hash FROM ocpp.stations WHERE identity = 'CP-1'", as: String.self)
            #expect(stored.hasPrefix("scrypt$") && !stored.contains("correct-horse"))

            let generated = try await admin.client.send("PUT", "/api/v1/stations/CP-1/password", body: "{}")
            let password = try #require(generated.json?["password"]?.string)
            #expect(password.count == 20)
            #expect(try await Self.upgradeStatus(gateway.port, "CP-1", password) == 101)
            #expect(try await Self.upgradeStatus(gateway.port, "CP-1", "correct-horse-1234") == 401)
            // A made-up password cannot be guessed: it is kept in the fast form.
            let generatedHash = try await client.scalar(
                "SELECT password_hash FROM ocpp.stations WHERE identity = 'CP-1'", as: String.self)
            #expect(generatedHash.hasPrefix("sha256$") && !generatedHash.contains(password))

            let short = try await admin.client.send(
                "PUT", "/api/v1/stations/CP-1/password", body: #"{"password":"short"}"#)
            #expect(short.status == 400)
            #expect(
                try await admin.client.send("PUT", "/api/v1/stations/CP-NONE/password", body: "{}").status == 404)
        }
    }

    @Test func aRotatedPasswordReplacesTheOldOneOnceTheStationAcceptsIt() async throws {
        try await Self.withGatewayAndAdmin(registering: "CP-ROT") { client, gateway, admin in
            let old = "old-password-00001"
            let new = "new-password-00002"
            _ = try await admin.client.send(
                "PUT", "/api/v1/stations/CP-ROT/password", body: #"{"password":"\#(old)"}"#)
            let station = try await TestStation.connect(
                port: gateway.port, identity: "CP-ROT", authorization: RawHTTP.basic("CP-ROT", old))
            _ = try await station.callResult("Heartbeat", [:])

            let rotation = try await admin.client.send(
                "PUT", "/api/v1/stations/CP-ROT/password", body: #"{"password":"\#(new)","push":true}"#)
            #expect(rotation.status == 202)
            let id = try #require(rotation.json?["messageId"]?.string)
            let call = try #require(try await station.nextReply())
            let hex = new.utf8.map { String(format: "%02X", $0) }.joined()
            #expect(call.contains(#""AuthorizationKey""#) && call.contains(hex))
            // Nobody reads the new key back over the API.
            let shown = try await admin.client.get("/api/v1/commands/\(id)")
            #expect(!shown.text.contains(hex))
            #expect(shown.json?["payload"]?["value"]?.string == "(redacted)")

            try await station.send(#"[3,"\#(id)",{"status":"Accepted"}]"#)
            try await eventually("the new password is the only one") {
                try await client.scalar(
                    "SELECT pending_password_hash IS NULL FROM ocpp.stations WHERE identity = 'CP-ROT'",
                    as: Bool.self)
            }
            #expect(
                try await client.scalar(
                    "SELECT payload->>'value' FROM ocpp.station_messages WHERE message_id = \(id)", as: String.self)
                    == "(redacted)")
            await station.close()
            #expect(try await Self.upgradeStatus(gateway.port, "CP-ROT", old) == 401)
            let again = try await TestStation.connect(
                port: gateway.port, identity: "CP-ROT", authorization: RawHTTP.basic("CP-ROT", new))
            _ = try await again.callResult("Heartbeat", [:])
            await again.close()
        }
    }

    /// The whitepaper's credentials: passwords of 16 to 40 characters, or an
    /// AuthorizationKey of up to 40 hex digits; a station may send the key's hex
    /// digits in any case.
    @Test func passwordsOf16To40CharactersAndHexAuthorizationKeys() async throws {
        try await Self.withGatewayAndAdmin(registering: "CP-KEY") { client, gateway, admin in
            let long = String(repeating: "p", count: 40)
            #expect(
                try await admin.client.send(
                    "PUT", "/api/v1/stations/CP-KEY/password", body: #"{"password":"\#(long)"}"#
                ).status == 200)
            #expect(try await Self.upgradeStatus(gateway.port, "CP-KEY", long) == 101)

            let key = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"  // 20 bytes
            #expect(
                try await admin.client.send(
                    "PUT", "/api/v1/stations/CP-KEY/password", body: #"{"authorizationKey":"\#(key)"}"#
                ).status == 200)
            #expect(try await Self.upgradeStatus(gateway.port, "CP-KEY", key) == 101)
            #expect(try await Self.upgradeStatus(gateway.port, "CP-KEY", key.uppercased()) == 101)
            #expect(try await Self.upgradeStatus(gateway.port, "CP-KEY", long) == 401)

            for (body, field) in [
                (#"{"password":"\#(long)x"}"#, "password"),  // 41 characters
                (#"{"authorizationKey":"0a1b2c"}"#, "authorizationKey"),  // 3 bytes
                (#"{"authorizationKey":"\#(key)00"}"#, "authorizationKey"),  // 21 bytes
                (#"{"password":"station-secret-01","authorizationKey":"\#(key)"}"#, "authorizationKey"),
                (#"{"password":"\#(long)","push":true}"#, "password"),  // a key holds 20 bytes
            ] {
                let refused = try await admin.client.send("PUT", "/api/v1/stations/CP-KEY/password", body: body)
                #expect(refused.status == 400, "\(body)")
                #expect(refused.json?["field"]?.string == field, "\(body)")
            }
        }
    }

    /// A rotation answered RebootRequired: both keys work until the station connects
    /// with the new one (it rebooted and took it), which completes the rotation. The
    /// station sends its new key in the hex form it was configured with.
    @Test func aRotationAnsweredRebootRequiredCompletesWhenTheStationUsesTheNewKey() async throws {
        try await Self.withGatewayAndAdmin(registering: "CP-REBOOT") { client, gateway, admin in
            let old = "old-password-00001"
            let new = "new-password-00002"
            _ = try await admin.client.send(
                "PUT", "/api/v1/stations/CP-REBOOT/password", body: #"{"password":"\#(old)"}"#)
            let station = try await TestStation.connect(
                port: gateway.port, identity: "CP-REBOOT", authorization: RawHTTP.basic("CP-REBOOT", old))
            _ = try await station.callResult("Heartbeat", [:])
            let rotation = try await admin.client.send(
                "PUT", "/api/v1/stations/CP-REBOOT/password", body: #"{"password":"\#(new)","push":true}"#)
            let id = try #require(rotation.json?["messageId"]?.string)
            _ = try #require(try await station.nextReply())
            try await station.send(#"[3,"\#(id)",{"status":"RebootRequired"}]"#)
            try await eventually("the answer is recorded") {
                try await client.scalar(
                    "SELECT status = 'answered' FROM ocpp.station_messages WHERE message_id = \(id)", as: Bool.self)
            }
            await station.close()
            // Not yet rebooted: the old key still works, and so would the new one.
            #expect(
                try await client.scalar(
                    "SELECT pending_password_hash IS NOT NULL FROM ocpp.stations WHERE identity = 'CP-REBOOT'",
                    as: Bool.self))
            #expect(try await Self.upgradeStatus(gateway.port, "CP-REBOOT", old) == 101)

            // After its reboot the station logs in with the key it was sent, in hex.
            let hex = try #require(StationPassword.authorizationKey(forPassword: new))
            #expect(try await Self.upgradeStatus(gateway.port, "CP-REBOOT", hex) == 101)
            try await eventually("the new key is the only one") {
                try await client.scalar(
                    "SELECT pending_password_hash IS NULL FROM ocpp.stations WHERE identity = 'CP-REBOOT'",
                    as: Bool.self)
            }
            #expect(try await Self.upgradeStatus(gateway.port, "CP-REBOOT", old) == 401)
            #expect(try await Self.upgradeStatus(gateway.port, "CP-REBOOT", new) == 101)
        }
    }
}
