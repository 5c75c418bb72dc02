import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

/// A station's security profile through the admin API: set and read, never lowered
/// without `allowDowngrade`, and 1 or 2 only for a station that has a password.
@Suite("Admin API: security profiles", .serialized, .timeLimit(.minutes(2)))
struct AdminSecurityProfileTests {
    static let path = "/api/v1/stations/CP-S/security-profile"

    private func stored(_ client: PostgresClient) async throws -> Int? {
        try await client.scalar(
            "SELECT security_profile::int FROM ocpp.stations WHERE identity = 'CP-S'", as: Int?.self)
    }

    @Test func setsAndReadsAProfileAndRaisesIt() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                """
                INSERT INTO ocpp.stations (identity, registration_status, password_hash)
                VALUES ('CP-S', 'Accepted', 'a stored hash')
                """)
            let unset = try #require(try await admin.client.get("/api/v1/stations/CP-S").json)
            #expect(unset["securityProfile"] == JSONValue.null)

            for profile in [1, 2, 3] {
                let set = try await admin.client.send("PUT", Self.path, body: #"{"securityProfile":\#(profile)}"#)
                #expect(set.status == 200, "\(set.text)")
                #expect(set.json?["securityProfile"]?.number == Double(profile))
                #expect(try await stored(client) == profile)
            }
            let read = try #require(try await admin.client.get("/api/v1/stations/CP-S").json)
            #expect(read["securityProfile"]?.number == 3)
            let listed = try #require(try await admin.client.get("/api/v1/stations").json)
            #expect(listed["items"]?[0]?["securityProfile"]?.number == 3)
            // The same profile again is no downgrade.
            #expect(try await admin.client.send("PUT", Self.path, body: #"{"securityProfile":3}"#).status == 200)
        }
    }

    @Test func refusesADowngradeUnlessAllowed() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                """
                INSERT INTO ocpp.stations (identity, registration_status, password_hash, security_profile)
                VALUES ('CP-S', 'Accepted', 'a stored hash', 3)
                """)
            for body in [
                #"{"securityProfile":2}"#, #"{"securityProfile":null}"#,
                #"{"securityProfile":0,"allowDowngrade":false}"#,
            ] {
                let refused = try await admin.client.send("PUT", Self.path, body: body)
                #expect(refused.status == 409, "\(body)")
                #expect(refused.json?["error"]?.string == "conflict", "\(body)")
                #expect(refused.json?["message"]?.string?.contains("allowDowngrade") == true, "\(body)")
            }
            #expect(try await stored(client) == 3, "a refused request changes nothing")

            let lowered = try await admin.client.send(
                "PUT", Self.path, body: #"{"securityProfile":2,"allowDowngrade":true}"#)
            #expect(lowered.status == 200)
            #expect(lowered.json?["securityProfile"]?.number == 2)
            let cleared = try await admin.client.send(
                "PUT", Self.path, body: #"{"securityProfile":null,"allowDowngrade":true}"#)
            #expect(cleared.status == 200)
            #expect(cleared.json?["securityProfile"] == JSONValue.null)
            #expect(try await stored(client) == nil)
        }
    }

    @Test func profilesOneAndTwoNeedAPassword() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-S', 'Accepted')")
            for profile in [1, 2] {
                let refused = try await admin.client.send("PUT", Self.path, body: #"{"securityProfile":\#(profile)}"#)
                // Well formed, refused by the station's state (no password yet): a conflict.
                #expect(refused.status == 409)
                #expect(refused.json?["field"]?.string == "securityProfile")
                #expect(refused.json?["message"]?.string?.contains("password") == true)
            }
            #expect(try await stored(client) == nil)
            // Profile 0 and profile 3 (a client certificate) need none.
            #expect(try await admin.client.send("PUT", Self.path, body: #"{"securityProfile":0}"#).status == 200)
            #expect(try await admin.client.send("PUT", Self.path, body: #"{"securityProfile":3}"#).status == 200)
            #expect(try await stored(client) == 3)
        }
    }

    @Test func refusesInvalidBodiesAndAnUnknownStation() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-S', 'Accepted')")
            for body in [
                "{}", #"{"securityProfile":4}"#, #"{"securityProfile":-1}"#, #"{"securityProfile":"2"}"#,
                #"{"securityProfile":1.5}"#,
            ] {
                let reply = try await admin.client.send("PUT", Self.path, body: body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.json?["field"]?.string == "securityProfile", "\(body)")
            }
            let typo = try await admin.client.send(
                "PUT", Self.path, body: #"{"securityProfile":3,"allowDowngrades":true}"#)
            #expect(typo.status == 400)
            #expect(typo.json?["field"]?.string == "allowDowngrades")
            let notBoolean = try await admin.client.send(
                "PUT", Self.path, body: #"{"securityProfile":3,"allowDowngrade":"yes"}"#)
            #expect(notBoolean.json?["field"]?.string == "allowDowngrade")
            #expect(try await stored(client) == nil)

            let missing = try await admin.client.send(
                "PUT", "/api/v1/stations/CP-NONE/security-profile", body: #"{"securityProfile":3}"#)
            #expect(missing.status == 404)
            #expect(missing.json?["error"]?.string == "not_found")
        }
    }

    @Test func theDatabaseRefusesAProfileOutOfRange() async throws {
        try await AdminHarness.withAdmin { client, _, _ in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-S', 'Accepted')")
            await #expect(throws: (any Error).self) {
                try await client.query("UPDATE ocpp.stations SET security_profile = 4 WHERE identity = 'CP-S'")
            }
            try await client.query("UPDATE ocpp.stations SET security_profile = 2 WHERE identity = 'CP-S'")
            #expect(try await stored(client) == 2)
        }
    }
}
