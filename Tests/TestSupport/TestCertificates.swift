import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// Certificate signing requests and a CA made at test time (security profile 3):
/// nothing secret is checked in, and nothing expires in the repository.
public enum TestCertificates {
    public static let organization = "Test CPO"

    /// The kinds of key a station may put in a CSR, allowed or not.
    public enum KeyKind: Sendable, CustomStringConvertible {
        case p256, p384, p521, ed25519
        case rsa(bits: Int)

        public var description: String {
            switch self {
            case .p256: "P-256"
            case .p384: "P-384"
            case .p521: "P-521"
            case .ed25519: "Ed25519"
            case .rsa(let bits): "RSA-\(bits)"
            }
        }

        public func makeKey() throws -> Certificate.PrivateKey {
            switch self {
            case .p256: Certificate.PrivateKey(P256.Signing.PrivateKey())
            case .p384: Certificate.PrivateKey(P384.Signing.PrivateKey())
            case .p521: Certificate.PrivateKey(P521.Signing.PrivateKey())
            case .ed25519: Certificate.PrivateKey(Curve25519.Signing.PrivateKey())
            case .rsa(let bits):
                Certificate.PrivateKey(try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: bits)))
            }
        }
    }

    /// A PEM CSR with the subject CN and O given (nil: left out), signed by a new key
    /// of `key`.
    public static func csr(
        commonName: String?, organization: String? = organization, key: KeyKind = .p256
    ) throws -> String {
        let privateKey = try key.makeKey()
        let subject = try DistinguishedName {
            if let commonName { CommonName(commonName) }
            if let organization { OrganizationName(organization) }
        }
        let request = try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: privateKey, attributes: CertificateSigningRequest.Attributes())
        return try request.serializeAsPEM().pemString
    }

    /// `pem` with the last byte of its DER (inside the signature) changed.
    public static func alteringSignature(of pem: String) throws -> String {
        let document = try PEMDocument(pemString: pem)
        var der = document.derBytes
        der[der.count - 1] ^= 0x01
        return PEMDocument(type: document.discriminator, derBytes: der).pemString
    }

    /// A certificate authority: its certificate (CA:TRUE unless `isAuthority` is
    /// false) and key, as PEM texts.
    public struct Authority: Sendable {
        public let certificate: Certificate
        public let key: Certificate.PrivateKey

        public init(
            name: String = "OCPP Test Station CA", isAuthority: Bool = true, key kind: KeyKind = .p256
        ) throws {
            let key = try kind.makeKey()
            let subject = try DistinguishedName {
                CommonName(name)
                OrganizationName(TestCertificates.organization)
            }
            certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
                notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(10 * 86_400),
                issuer: subject, subject: subject,
                extensions: try Certificate.Extensions {
                    if isAuthority {
                        Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                        Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    } else {
                        Critical(BasicConstraints.notCertificateAuthority)
                    }
                    SubjectKeyIdentifier(hash: key.publicKey)
                },
                issuerPrivateKey: key)
            self.key = key
        }

        public var certificatePEM: String { get throws { try certificate.serializeAsPEM().pemString } }
        public var keyPEM: String { get throws { try key.serializeAsPEM().pemString } }

        /// Writes the certificate and key to a new temporary directory; returns their paths.
        public func write() throws -> (certificate: String, key: String) {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "ocpp-ca-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let certificate = directory.appendingPathComponent("ca.crt")
            let key = directory.appendingPathComponent("ca.key")
            try Data(try certificatePEM.utf8).write(to: certificate)
            try Data(try keyPEM.utf8).write(to: key)
            return (certificate.path, key.path)
        }
    }

    /// The certificates of a PEM chain, in order.
    public static func certificates(inChain pem: String) throws -> [Certificate] {
        try PEMDocument.parseMultiple(pemString: pem).map { try Certificate(derEncoded: $0.derBytes) }
    }
}
