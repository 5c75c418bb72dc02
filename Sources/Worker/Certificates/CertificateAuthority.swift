import Crypto
import Foundation
import OCPP
import Shared
import SwiftASN1
import X509
import _CryptoExtras

/// The operator's CA that signs station certificates (SignCertificate, security
/// profile 3): its certificate, the certificates above it, and its key. Only the
/// worker holds it; the internet-facing gateway never sees the key.
struct CertificateAuthority: Sendable {
    /// The certificate that signs, first in `OCPP_CA_CERTIFICATE`.
    let certificate: Certificate
    /// The certificates after it in that file (intermediates up to the root), sent
    /// with every certificate issued.
    let chain: [Certificate]
    let key: Certificate.PrivateKey
    /// How long an issued certificate is valid (cut at the CA certificate's own end).
    var validity = Duration.seconds(365 * 86_400)

    /// Issued certificates start this much before the moment of signing, for
    /// stations whose clock runs a little behind.
    static let backdating: TimeInterval = 300

    /// Reads the PEM texts; throws the setting at fault and why.
    init(certificatePEM: String, keyPEM: String) throws(ConfigurationError) {
        let documents = (try? PEMDocument.parseMultiple(pemString: certificatePEM)) ?? []
        let certificates = documents.filter { $0.discriminator == "CERTIFICATE" }.compactMap {
            try? Certificate(derEncoded: $0.derBytes)
        }
        guard let certificate = certificates.first, certificates.count == documents.count else {
            throw ConfigurationError(
                setting: Setting.certificate, reason: "is not a file of PEM certificates (the CA's first)")
        }
        guard case .isCertificateAuthority? = try? certificate.extensions.basicConstraints else {
            throw ConfigurationError(
                setting: Setting.certificate,
                reason: "is not a CA certificate: its basicConstraints do not say CA:TRUE (\(certificate.subject))")
        }
        if let usage = try? certificate.extensions.keyUsage, !usage.keyCertSign {
            throw ConfigurationError(
                setting: Setting.certificate, reason: "may not sign certificates: its keyUsage lacks keyCertSign")
        }
        guard let key = try? Certificate.PrivateKey(pemEncoded: keyPEM) else {
            throw ConfigurationError(
                setting: Setting.key, reason: "is not a PEM private key (PKCS #8, SEC 1 or PKCS #1)")
        }
        guard key.publicKey == certificate.publicKey else {
            throw ConfigurationError(
                setting: Setting.key, reason: "does not match the certificate in \(Setting.certificate)")
        }
        self.certificate = certificate
        self.chain = Array(certificates.dropFirst())
        self.key = key
    }

    /// Reads the files at `certificatePath` and `keyPath`.
    static func load(certificatePath: String, keyPath: String) throws(ConfigurationError) -> CertificateAuthority {
        try CertificateAuthority(
            certificatePEM: try read(certificatePath, setting: Setting.certificate),
            keyPEM: try read(keyPath, setting: Setting.key))
    }

    private static func read(_ path: String, setting: String) throws(ConfigurationError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(setting: setting, reason: "cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// A station certificate for the checked `request`: its subject and key, a random
    /// serial, for TLS client authentication only.
    func issue(for request: CertificateSigningRequest, at now: Date = Date()) throws -> Certificate {
        let notAfter = min(now.addingTimeInterval(TimeInterval(validity.components.seconds)), certificate.notValidAfter)
        let isRSA = _RSA.Signing.PublicKey(request.publicKey) != nil
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: request.publicKey,
            notValidBefore: now.addingTimeInterval(-Self.backdating), notValidAfter: notAfter,
            issuer: certificate.subject, subject: request.subject,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: isRSA, keyAgreement: !isRSA))
                try ExtendedKeyUsage([.clientAuth])
                SubjectKeyIdentifier(hash: request.publicKey)
                AuthorityKeyIdentifier(
                    keyIdentifier: (try? certificate.extensions.subjectKeyIdentifier)??.keyIdentifier
                        ?? SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier)
            },
            issuerPrivateKey: key)
    }

    /// `issued` followed by the CA's certificates, as PEM: CertificateSigned's
    /// `certificateChain`.
    func chainPEM(for issued: Certificate) throws -> String {
        try ([issued, certificate] + chain).map { try $0.serializeAsPEM().pemString }.joined(separator: "\n") + "\n"
    }

    enum Setting {
        static let organization = "OCPP_CSR_ORGANIZATION"
        static let certificate = "OCPP_CA_CERTIFICATE"
        static let key = "OCPP_CA_KEY"
        static let validityDays = "OCPP_ISSUED_CERTIFICATE_DAYS"
    }
}

/// What the worker needs to sign station certificates: the checks a CSR must pass
/// (the gateway's too) and the CA.
struct CertificateSigning: Sendable {
    var check: CertificateRequestCheck
    var authority: CertificateAuthority
}
