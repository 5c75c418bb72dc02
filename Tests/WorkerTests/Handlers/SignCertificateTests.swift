import Foundation
import OCPP
import PostgresNIO
import Shared
import SwiftASN1
import TestSupport
import Testing
import X509

@testable import Worker

/// ``SignCertificateHandler``: a journaled SignCertificate becomes a certificate
/// signed by the operator's CA, recorded once and queued as CertificateSigned in the
/// batch's transaction; a request that fails a check becomes an event with the reason.
@Suite("SignCertificate")
struct SignCertificateTests {
    static func signing(_ authority: TestCertificates.Authority) throws -> CertificateSigning {
        CertificateSigning(
            check: CertificateRequestCheck(organization: TestCertificates.organization),
            authority: try CertificateAuthority(
                certificatePEM: try authority.certificatePEM, keyPEM: try authority.keyPEM))
    }

    static func request(_ csr: String, answered status: String = "Accepted") -> InboxFixture.Row {
        .call(
            "SignCertificate", json: ["csr": .string(csr)], response: ["status": .string(status)],
            receivedAt: TestTime.at(40))
    }

    static func detail(_ fixture: InboxFixture) async throws -> String? {
        try await fixture.row("SELECT detail FROM ocpp.station_events WHERE action = 'SignCertificate'")["detail"]?
            .string
    }

    @Test(arguments: [TestCertificates.KeyKind.p256, .rsa(bits: 2048)])
    func anAcceptedRequestIsSignedAndQueuedOnce(key: TestCertificates.KeyKind) async throws {
        let authority = try TestCertificates.Authority()
        let csr = try TestCertificates.csr(commonName: "CP-1", key: key)
        try await InboxFixture.withFixture { fixture in
            var fixture = fixture
            fixture.certificateSigning = try Self.signing(authority)
            let station = try await fixture.station("CP-1")
            let ids = try await fixture.insert([Self.request(csr)], station: station)
            try await fixture.drain()
            // The batch applied a second time (a worker died after applying, before its commit was seen).
            try await fixture.reprocess(ids)
            try await fixture.drain()

            let issued = try await fixture.row(
                """
                SELECT station_id, inbox_id, serial_number, subject, not_before, not_after, sha256_fingerprint, pem,
                       message_id
                FROM ocpp.issued_certificates
                """)
            #expect(issued["station_id"] == .integer(station))
            #expect(issued["inbox_id"] == .integer(ids[0]))
            let command = try await fixture.row(
                "SELECT message_id, action, payload, status FROM ocpp.station_messages")
            #expect(command["action"] == "CertificateSigned")
            #expect(command["status"] == "pending")
            #expect(command["message_id"] == issued["message_id"])

            let chainText = try #require(command["payload"]?["certificateChain"]?.string)
            let chain = try TestCertificates.certificates(inChain: chainText)
            #expect(chain.count == 2)
            let leaf = try #require(chain.first)
            #expect(chain.last == authority.certificate)
            // Signed by the CA, for the station's own key, for TLS client authentication only.
            #expect(authority.certificate.publicKey.isValidSignature(leaf.signature, for: leaf))
            #expect(leaf.issuer == authority.certificate.subject)
            let request = try CertificateSigningRequest(pemEncoded: csr)
            #expect(leaf.publicKey == request.publicKey)
            #expect(leaf.subject == request.subject)
            #expect(try leaf.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
            #expect(try leaf.extensions.extendedKeyUsage?.count == 1)
            #expect(try leaf.extensions.basicConstraints == .notCertificateAuthority)
            #expect(try leaf.extensions.keyUsage?.digitalSignature == true)
            #expect(try leaf.extensions.subjectKeyIdentifier != nil)
            #expect(try leaf.extensions.authorityKeyIdentifier?.keyIdentifier != nil)
            #expect(leaf.notValidAfter > Date().addingTimeInterval(9 * 86_400))
            #expect(leaf.notValidAfter <= authority.certificate.notValidAfter)

            let expected = try IssuedCertificate(leaf)
            #expect(issued["serial_number"]?.string == expected.serialNumber)
            #expect(issued["sha256_fingerprint"]?.string == expected.fingerprint)
            #expect(issued["pem"]?.string == expected.pem)
            #expect(issued["subject"]?.string?.contains("CN=CP-1") == true)
            #expect(issued["not_after"]?.date.map { abs($0.timeIntervalSince(leaf.notValidAfter)) < 1 } == true)
            let detail = try #require(try await Self.detail(fixture))
            #expect(detail.hasPrefix("certificate issued: serial \(expected.serialNumber)"))
        }
    }

    /// An RSA CA signs an EC station key, and the certificates after the CA's own in
    /// OCPP_CA_CERTIFICATE (its chain) are sent along.
    @Test func anRSACAWithAChainSignsToo() throws {
        let authority = try TestCertificates.Authority(key: .rsa(bits: 2048))
        let root = try TestCertificates.Authority(name: "OCPP Test Root")
        let ca = try CertificateAuthority(
            certificatePEM: try authority.certificatePEM + "\n" + root.certificatePEM, keyPEM: try authority.keyPEM)
        #expect(ca.chain == [root.certificate])
        let request = try CertificateSigningRequest(pemEncoded: try TestCertificates.csr(commonName: "CP-1"))
        let issued = try ca.issue(for: request)
        #expect(authority.certificate.publicKey.isValidSignature(issued.signature, for: issued))
        #expect(try issued.extensions.keyUsage?.keyAgreement == true)
        #expect(
            try TestCertificates.certificates(inChain: try ca.chainPEM(for: issued)) == [
                issued, authority.certificate, root.certificate,
            ])
    }

    @Test func aRequestThatFailsACheckIsAnEventWithTheReason() async throws {
        let authority = try TestCertificates.Authority()
        let csr = try TestCertificates.csr(commonName: "CP-2")
        try await InboxFixture.withFixture { fixture in
            var fixture = fixture
            fixture.certificateSigning = try Self.signing(authority)
            let station = try await fixture.station("CP-1")
            try await fixture.insert([Self.request(csr, answered: "Rejected")], station: station)
            try await fixture.drain()
            #expect(
                try await Self.detail(fixture) == "SignCertificate rejected: CN CP-2 is not the station identity CP-1")
            #expect(try await fixture.count("SELECT 1 FROM ocpp.issued_certificates") == 0)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.station_messages") == 0)
        }
    }

    @Test func aDifferentVerdictThanTheGatewaysIsRecordedAndNothingIsSigned() async throws {
        let authority = try TestCertificates.Authority()
        try await InboxFixture.withFixture { fixture in
            var fixture = fixture
            fixture.certificateSigning = try Self.signing(authority)
            let one = try await fixture.station("CP-1")
            let two = try await fixture.station("CP-2")
            // The gateway accepted an organization the worker does not know ...
            try await fixture.insert(
                [Self.request(try TestCertificates.csr(commonName: "CP-1", organization: "Other CPO"))], station: one)
            // ... and refused a request the worker would sign.
            try await fixture.insert(
                [Self.request(try TestCertificates.csr(commonName: "CP-2"), answered: "Rejected")], station: two)
            try await fixture.drain()
            let details = try await fixture.texts(
                "SELECT detail FROM ocpp.station_events ORDER BY station_id")
            #expect(details.count == 2)
            #expect(
                details.first?.hasPrefix("SignCertificate rejected: O Other CPO is not the configured organization")
                    == true)
            #expect(details.first?.contains("the gateway had answered Accepted") == true)
            #expect(details.last?.hasPrefix("SignCertificate not signed: the gateway answered Rejected") == true)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.issued_certificates") == 0)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.station_messages") == 0)
        }
    }

    @Test func aWorkerWithoutACASignsNothingAndSaysSo() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-1")
            try await fixture.insert(
                [Self.request(try TestCertificates.csr(commonName: "CP-1"), answered: "Rejected")], station: station)
            try await fixture.drain()
            #expect(
                try await Self.detail(fixture)
                    == "SignCertificate rejected: certificate signing is not configured (OCPP_CSR_ORGANIZATION)")
            #expect(try await fixture.count("SELECT 1 FROM ocpp.station_messages") == 0)
        }
    }

    @Test func aFullCommandQueueLeavesTheRequestUnsignedWithoutBlockingTheInbox() async throws {
        let authority = try TestCertificates.Authority()
        try await InboxFixture.withFixture { fixture in
            var fixture = fixture
            fixture.certificateSigning = try Self.signing(authority)
            let station = try await fixture.station("CP-1")
            try await fixture.client.query(
                "INSERT INTO ocpp.settings (name, value) VALUES ('max_pending_commands', '1') ON CONFLICT (name) DO UPDATE SET value = '1'",
                logger: TestDatabase.logger)
            _ = try await fixture.client.scalar("SELECT ocpp.enqueue_call('CP-1', 'ClearCache', '{}')", as: String.self)
            try await fixture.insert([Self.request(try TestCertificates.csr(commonName: "CP-1"))], station: station)
            #expect(try await fixture.drain() == 1)
            let detail = try #require(try await Self.detail(fixture))
            #expect(detail.hasPrefix("SignCertificate not signed: CertificateSigned could not be queued"))
            #expect(try await fixture.count("SELECT 1 FROM ocpp.issued_certificates") == 0)
            #expect(try await fixture.count("SELECT 1 FROM ocpp.inbox_pending") == 0)
        }
    }
}
