import Foundation
import OCPP
import PostgresNIO
import Shared
import SwiftASN1
import TestSupport
import Testing
import X509

@testable import Gateway
@testable import Worker

/// Security profile 3's certificate signing over a real WebSocket: the gateway answers
/// SignCertificate, the worker signs with the operator's CA, the station receives
/// CertificateSigned, and the admin API lists what was issued.
@Suite("Certificate signing end to end", .serialized, .timeLimit(.minutes(2)))
struct CertificateSigningEndToEndTests {
    @Test func aStationsRequestComesBackAsACertificateFromTheOperatorsCA() async throws {
        let authority = try TestCertificates.Authority()
        let signing = CertificateSigning(
            check: CertificateRequestCheck(organization: TestCertificates.organization),
            authority: try CertificateAuthority(
                certificatePEM: try authority.certificatePEM, keyPEM: try authority.keyPEM))
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let gateway = try await GatewayHarness.start(database: configuration) {
                $0.csrOrganization = TestCertificates.organization
            }
            let worker: WorkerHarness
            do {
                worker = try await WorkerHarness.start(
                    database: configuration, workerID: "signing-worker", listener: .admin
                ) { settings in
                    settings.admin.port = 0
                    settings.admin.token = AdminHarness.token
                    settings.certificateSigning = signing
                }
            } catch {
                try? await gateway.stop()
                throw error
            }
            do {
                try await Self.signingFlow(
                    client: client, gateway: gateway, admin: AdminClient(port: worker.port, token: AdminHarness.token),
                    authority: authority)
            } catch {
                try? await worker.stop()
                try? await gateway.stop()
                throw error
            }
            try await gateway.stop()
            try await worker.stop()
        }
    }

    static func signingFlow(
        client: PostgresClient, gateway: GatewayHarness, admin: AdminClient, authority: TestCertificates.Authority
    ) async throws {
        let station = try await TestStation.connect(port: gateway.port, identity: "CP-CERT")
        let boot = try await station.callResult(
            "BootNotification", ["chargePointVendor": "V", "chargePointModel": "M"])
        #expect(boot["status"] == "Accepted")

        // A request for another identity is refused at once, and the reason is recorded.
        let foreign = try await station.callResult(
            "SignCertificate", ["csr": .string(try TestCertificates.csr(commonName: "CP-OTHER"))])
        #expect(foreign["status"] == "Rejected")

        let csr = try TestCertificates.csr(commonName: "CP-CERT", key: .p384)
        let answer = try await station.callResult("SignCertificate", ["csr": .string(csr)])
        #expect(answer["status"] == "Accepted")

        let text = try #require(try await station.nextReply(timeout: .seconds(20)))
        guard case .call(let call) = try OCPPFrame.decode(text) else {
            Issue.record("expected CertificateSigned, got \(text)")
            return
        }
        #expect(call.action == "CertificateSigned")
        let chain = try TestCertificates.certificates(inChain: try #require(call.payload["certificateChain"]?.string))
        let leaf = try #require(chain.first)
        #expect(authority.certificate.publicKey.isValidSignature(leaf.signature, for: leaf))
        #expect(leaf.publicKey == (try CertificateSigningRequest(pemEncoded: csr)).publicKey)
        #expect(try leaf.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
        try await station.send(#"[3,"\#(call.messageID)",{"status":"Accepted"}]"#)

        try await eventually("the station's answer is stored") {
            try await client.scalar(
                "SELECT status FROM ocpp.station_messages WHERE message_id = \(call.messageID)", as: String.self)
                == "answered"
        }
        let listed = try #require(try await admin.get("/api/v1/stations/CP-CERT/certificates").json)
        let items = try #require(listed["items"]?.array)
        #expect(items.count == 1)
        #expect(items.first?["serialNumber"]?.string == IssuedCertificate.hex(leaf.serialNumber.bytes))
        #expect(items.first?["messageId"]?.string == call.messageID)
        #expect(items.first?["pem"]?.string == (try leaf.serializeAsPEM().pemString))
        #expect(listed["next"] == .null)

        let events = try #require(
            try await admin.get("/api/v1/stations/CP-CERT/events?action=SignCertificate").json?["items"]?.array)
        let details = events.compactMap { $0["detail"]?.string }
        #expect(details.count == 2)
        #expect(details.last == "SignCertificate rejected: CN CP-OTHER is not the station identity CP-CERT")
        #expect(details.first?.hasPrefix("certificate issued: serial ") == true)
        await station.close()
    }
}
