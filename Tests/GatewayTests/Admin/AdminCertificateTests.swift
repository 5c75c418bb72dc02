import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

/// `GET /api/v1/stations/{identity}/certificates`: the certificates issued to one
/// station, newest first, paged like every list.
@Suite("Admin API: issued certificates", .serialized, .timeLimit(.minutes(2)))
struct AdminCertificateTests {
    @Test func listsAStationsCertificatesNewestFirstInPages() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                """
                WITH s AS (
                    INSERT INTO ocpp.stations (identity) VALUES ('CP-1'), ('CP-2') RETURNING id, identity
                )
                INSERT INTO ocpp.issued_certificates (station_id, inbox_id, serial_number, subject, not_before,
                                                      not_after, sha256_fingerprint, pem, message_id)
                SELECT s.id, s.id * 100 + n, 'serial-' || s.identity || '-' || n, 'CN=' || s.identity, now(), now() + interval '1 day',
                       'ab', 'PEM', 'message-' || n
                FROM s, generate_series(1, 3) AS n
                WHERE s.identity = 'CP-1' OR n = 1
                """)
            let first = try #require(try await admin.client.get("/api/v1/stations/CP-1/certificates?limit=2").json)
            #expect(
                first["items"]?.array?.compactMap { $0["serialNumber"]?.string } == ["serial-CP-1-3", "serial-CP-1-2"])
            let item = try #require(first["items"]?.array?.first)
            for member in ["subject", "notBefore", "notAfter", "sha256Fingerprint", "issuedAt", "messageId", "pem"] {
                #expect(item[member] != nil, "no \(member)")
            }
            let next = try #require(first["next"]?.string)
            let second = try #require(
                try await admin.client.get("/api/v1/stations/CP-1/certificates?limit=2&after=\(next)").json)
            #expect(second["items"]?.array?.compactMap { $0["serialNumber"]?.string } == ["serial-CP-1-1"])
            #expect(second["next"] == .null)
            #expect(try await admin.client.get("/api/v1/stations/CP-9/certificates").status == 404)
            #expect(try await admin.client.get("/api/v1/stations/CP-1/certificates?status=x").status == 400)
        }
    }
}
