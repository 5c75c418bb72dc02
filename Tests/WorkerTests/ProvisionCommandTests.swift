import ArgumentParser
import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

@Suite struct ProvisionCommandTests {
    @Test func registersNewStationsWithPasswordsThatVerify() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            let logger = TestDatabase.logger
            // One station exists already: it keeps its row and is not in the answer.
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('FLEET-1', 'Rejected')",
                logger: logger)
            let registered = try await ProvisionCommand.register(
                ["FLEET-0", "FLEET-1", "FLEET-2"], securityProfile: 2, client: client, logger: logger)
            #expect(registered.map(\.identity) == ["FLEET-0", "FLEET-2"])
            #expect(Set(registered.map(\.password)).count == 2)

            let rows = try await client.query(
                """
                SELECT identity, registration_status, coalesce(security_profile, -1)::int, coalesce(password_hash, '')
                FROM ocpp.stations ORDER BY identity
                """, logger: logger)
            var stored: [String: (status: String, profile: Int, hash: String)] = [:]
            for try await (identity, status, profile, hash) in rows.decode((String, String, Int, String).self) {
                stored[identity] = (status, profile, hash)
            }
            #expect(stored["FLEET-1"]?.status == "Rejected")
            #expect(stored["FLEET-1"]?.hash == "")
            for station in registered {
                let row = try #require(stored[station.identity])
                #expect(row.status == "Accepted")
                #expect(row.profile == 2)
                // Generated secrets are stored in the fast form, and only they verify.
                #expect(row.hash.hasPrefix("sha256$"))
                #expect(PasswordHash.verify(password: station.password, against: row.hash))
                #expect(!PasswordHash.verify(password: station.password + "x", against: row.hash))
            }
        }
    }

    /// The refusal names the option at fault, so the test cannot pass on another error.
    static func refusal(_ arguments: [String]) -> String? {
        do {
            _ = try ProvisionCommand.parse(arguments)
            return nil
        } catch {
            return ProvisionCommand.message(for: error)
        }
    }

    @Test func refusesAnExistingCredentialsFile() throws {
        let existing = FileManager.default.temporaryDirectory.appendingPathComponent("provision-\(UUID()).txt")
        try Data().write(to: existing)
        defer { try? FileManager.default.removeItem(at: existing) }
        let message = Self.refusal(["--identity-prefix", "P-", "--count", "1", "--credentials", existing.path])
        #expect(message?.contains("--credentials") == true, "\(message ?? "accepted")")
    }

    @Test func refusesProfileThree() {
        let unused = FileManager.default.temporaryDirectory.appendingPathComponent("provision-\(UUID()).txt").path
        let message = Self.refusal([
            "--identity-prefix", "P-", "--count", "1", "--credentials", unused, "--security-profile", "3",
        ])
        #expect(message?.contains("--security-profile") == true, "\(message ?? "accepted")")
        #expect(Self.refusal(["--identity-prefix", "P-", "--count", "1", "--credentials", unused]) == nil)
    }
}
