import Foundation
import OCPP
import Shared
import SwiftASN1
import TestSupport
import Testing
import X509

/// ``CertificateRequestCheck``: what a station's CSR must be for the CA to sign it,
/// and the reason given for each refusal.
@Suite("Certificate signing request checks")
struct CertificateRequestCheckTests {
    static let check = CertificateRequestCheck(organization: TestCertificates.organization)

    static func rejection(_ csr: String, identity: String = "CP-1") -> CertificateRequestRejection? {
        if case .failure(let reason) = check.check(csr, identity: identity) { return reason }
        return nil
    }

    @Test(arguments: [TestCertificates.KeyKind.p256, .p384, .rsa(bits: 2048)])
    func aWellFormedRequestWithAnAllowedKeyIsAccepted(key: TestCertificates.KeyKind) throws {
        let csr = try TestCertificates.csr(commonName: "CP-1", key: key)
        let request = try Self.check.check(csr, identity: "CP-1").get()
        #expect(request.subject.description.contains("CN=CP-1"))
    }

    @Test func base64DERWithoutThePEMLinesIsReadToo() throws {
        let pem = try TestCertificates.csr(commonName: "CP-1")
        let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined(separator: "\n")
        #expect(Self.rejection(base64) == nil)
    }

    @Test(arguments: [TestCertificates.KeyKind.rsa(bits: 1024), .p521, .ed25519])
    func otherKeysAreRefusedByName(key: TestCertificates.KeyKind) throws {
        let csr = try TestCertificates.csr(commonName: "CP-1", key: key)
        let reason = try #require(Self.rejection(csr))
        guard case .keyNotAllowed(let name) = reason else {
            Issue.record("expected keyNotAllowed, got \(reason)")
            return
        }
        switch key {
        case .rsa: #expect(name == "RSA 1024 bits")
        case .p521: #expect(name == "ECDSA P-521")
        default: #expect(name == "Ed25519")
        }
        #expect(reason.description.contains("is not allowed"))
    }

    @Test(arguments: [
        "", "hello", "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----",
        "-----BEGIN CERTIFICATE REQUEST-----", "TUlJQg==",
    ])
    func textThatIsNoRequestIsRefused(csr: String) {
        #expect(Self.rejection(csr) == .notACertificateRequest)
    }

    @Test func aCertificateIsNotARequest() throws {
        let certificate = try TestCertificates.Authority().certificatePEM
        #expect(Self.rejection(certificate) == .notACertificateRequest)
    }

    @Test func anAlteredSignatureIsRefused() throws {
        let csr = try TestCertificates.alteringSignature(of: try TestCertificates.csr(commonName: "CP-1"))
        #expect(Self.rejection(csr) == .badSignature)
        let rsa = try TestCertificates.alteringSignature(
            of: try TestCertificates.csr(commonName: "CP-1", key: .rsa(bits: 2048)))
        #expect(Self.rejection(rsa) == .badSignature)
    }

    @Test func theCommonNameMustBeTheIdentity() throws {
        #expect(Self.rejection(try TestCertificates.csr(commonName: nil)) == .noCommonName)
        let other = try #require(Self.rejection(try TestCertificates.csr(commonName: "CP-2")))
        #expect(other == .commonNameNotIdentity("CP-2", identity: "CP-1"))
        #expect(other.description == "CN CP-2 is not the station identity CP-1")
        // Identities are case-sensitive.
        #expect(
            Self.rejection(try TestCertificates.csr(commonName: "cp-1"))
                == .commonNameNotIdentity("cp-1", identity: "CP-1"))
    }

    @Test func theOrganizationMustBeTheConfiguredOne() throws {
        #expect(
            Self.rejection(try TestCertificates.csr(commonName: "CP-1", organization: nil))
                == .noOrganization(required: TestCertificates.organization))
        let other = try #require(
            Self.rejection(try TestCertificates.csr(commonName: "CP-1", organization: "Other CPO")))
        #expect(other == .organizationNotConfigured("Other CPO", required: TestCertificates.organization))
        #expect(other.description == "O Other CPO is not the configured organization Test CPO")
    }

    @Test func theVerdictIsTheSameEachTime() throws {
        let csr = try TestCertificates.csr(commonName: "CP-2")
        #expect(Self.rejection(csr) == Self.rejection(csr))
        let good = try TestCertificates.csr(commonName: "CP-1")
        #expect(
            try CertificateRequestCheck(organization: TestCertificates.organization).check(good, identity: "CP-1").get()
                == (try Self.check.check(good, identity: "CP-1").get()))
    }
}
