import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

@testable import Gateway

/// A certificate authority made at test time, and the certificates it issues: nothing
/// secret is checked in, and nothing expires in the repository.
struct TestPKI {
    static let organization = "Test CPO"

    /// A certificate with its key, as PEM text the way operators hand them to the gateway.
    struct Issued {
        let certificate: Certificate
        let key: P256.Signing.PrivateKey

        var certificatePEM: String { get throws { try certificate.serializeAsPEM().pemString } }
        var keyPEM: String { key.pemRepresentation }
        var serialNumber: Certificate.SerialNumber { certificate.serialNumber }

        /// Presented by a TLS client (a station in profile 3).
        var clientIdentity: (chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKeySource) {
            get throws {
                (
                    [.certificate(try NIOSSLCertificate(bytes: Array(try certificatePEM.utf8), format: .pem))],
                    .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
                )
            }
        }
    }

    let authority: Issued

    init(name: String = "OCPP Test CA") throws {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            CommonName(name)
            OrganizationName(Self.organization)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86_400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key))
        self.authority = Issued(certificate: certificate, key: key)
    }

    /// The gateway's certificate, for localhost and 127.0.0.1.
    func server() throws -> Issued {
        try issue(
            commonName: "localhost", organization: Self.organization,
            alternativeNames: [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))],
            usage: .serverAuth)
    }

    /// A station's certificate: CN = its identity, O = the CPO, for client
    /// authentication (`usage` nil: no extended key usage extension at all).
    func station(
        _ commonName: String, organization: String = Self.organization, dnsNames: [String] = [],
        usage: ExtendedKeyUsage.Usage? = .clientAuth
    ) throws
        -> Issued
    {
        try issue(
            commonName: commonName, organization: organization, alternativeNames: dnsNames.map { .dnsName($0) },
            usage: usage)
    }

    private func issue(
        commonName: String, organization: String, alternativeNames: [GeneralName], usage: ExtendedKeyUsage.Usage?
    ) throws -> Issued {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            CommonName(commonName)
            OrganizationName(organization)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86_400),
            issuer: authority.certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                if let usage { try ExtendedKeyUsage([usage]) }
                if !alternativeNames.isEmpty { SubjectAlternativeNames(alternativeNames) }
            },
            issuerPrivateKey: .init(authority.key))
        return Issued(certificate: certificate, key: key)
    }

    /// A client configuration that trusts this CA, presenting `identity` when given.
    func clientConfiguration(presenting identity: Issued? = nil) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([
            try NIOSSLCertificate(bytes: Array(try authority.certificatePEM.utf8), format: .pem)
        ])
        if let identity {
            let (chain, key) = try identity.clientIdentity
            configuration.certificateChain = chain
            configuration.privateKey = key
        }
        return configuration
    }
}

/// The gateway's TLS files in a fresh temporary directory; rewritten to replace the
/// certificate.
struct TLSFileSet {
    let directory: URL
    var certificate: URL { directory.appendingPathComponent("gateway.crt") }
    var key: URL { directory.appendingPathComponent("gateway.key") }
    var clientCA: URL { directory.appendingPathComponent("stations-ca.crt") }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ocpp-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func write(server: TestPKI.Issued, clientCA: TestPKI? = nil) throws {
        try Data(try server.certificatePEM.utf8).write(to: certificate)
        try Data(server.keyPEM.utf8).write(to: key)
        if let clientCA { try Data(try clientCA.authority.certificatePEM.utf8).write(to: self.clientCA) }
    }

    /// Settings for the gateway's TLS listener on port 0 (profile 3 with `clientCA`).
    func settings(clientCA: Bool = false, organization: String? = nil) -> TLSSettings {
        var settings = TLSSettings(certificateChainPath: certificate.path, privateKeyPath: key.path)
        settings.port = 0
        if clientCA { settings.clientCAPath = self.clientCA.path }
        settings.clientOrganization = organization
        return settings
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}
