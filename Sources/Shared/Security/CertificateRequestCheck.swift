import Crypto
import Foundation
import OCPP
import SwiftASN1
import X509
import _CryptoExtras

/// The checks a station's certificate signing request (SignCertificate, security
/// profile 3) must pass before the central system's CA signs it: a well-formed
/// PKCS #10 request, an allowed key, a valid self-signature, subject CN = the
/// station's identity and subject O = the operator's organization (the whitepaper's
/// A00.FR.404, .405).
///
/// Pure and deterministic: the gateway runs it to answer Accepted or Rejected, the
/// worker runs it again before signing, and the same inputs give the same verdict.
public struct CertificateRequestCheck: Sendable {
    /// The subject O every request must carry (`OCPP_CSR_ORGANIZATION`).
    public var organization: String

    /// Keys a station may have signed: ECDSA P-256 and P-384, RSA from 2048 to
    /// 8192 bits (an upper bound keeps what one request costs to verify bounded).
    public static let rsaKeySizes = 2048...8192

    public init(organization: String) {
        self.organization = organization
    }

    /// The parsed request when every check passes, else the first that fails (in the
    /// order: form, key, signature, CN, O).
    public func check(
        _ csr: String, identity: String
    ) -> Result<CertificateSigningRequest, CertificateRequestRejection> {
        guard let der = Self.derBytes(csr) else { return .failure(.notACertificateRequest) }
        guard let request = try? CertificateSigningRequest(derEncoded: der) else {
            // swift-certificates refuses to read some keys at all (RSA below 2048
            // bits, unknown algorithms): say which key it was when the request is
            // otherwise well-formed.
            if let key = Self.unreadableKey(der) { return .failure(.keyNotAllowed(key)) }
            return .failure(.notACertificateRequest)
        }
        if let key = Self.keyRefusal(request.publicKey) { return .failure(.keyNotAllowed(key)) }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            return .failure(.badSignature)
        }
        let commonNames = Self.values(of: .RDNAttributeType.commonName, in: request.subject)
        guard !commonNames.isEmpty else { return .failure(.noCommonName) }
        guard commonNames == [identity] else {
            return .failure(.commonNameNotIdentity(commonNames.joined(separator: ", "), identity: identity))
        }
        let organizations = Self.values(of: .RDNAttributeType.organizationName, in: request.subject)
        guard !organizations.isEmpty else { return .failure(.noOrganization(required: organization)) }
        guard organizations == [organization] else {
            return .failure(
                .organizationNotConfigured(organizations.joined(separator: ", "), required: organization))
        }
        return .success(request)
    }

    /// The DER of a PEM request (`CERTIFICATE REQUEST`, or the older `NEW CERTIFICATE
    /// REQUEST`), or of base64 DER without the PEM lines; nil when it is neither.
    static func derBytes(_ text: String) -> [UInt8]? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let der: [UInt8]
        if trimmed.hasPrefix("-----BEGIN") {
            guard let document = try? PEMDocument(pemString: trimmed),
                document.discriminator == "CERTIFICATE REQUEST" || document.discriminator == "NEW CERTIFICATE REQUEST"
            else { return nil }
            der = document.derBytes
        } else {
            let base64 = trimmed.filter { !$0.isWhitespace }
            guard let data = Data(base64Encoded: base64) else { return nil }
            der = Array(data)
        }
        return der
    }

    /// The key of a request swift-certificates could not read, found by walking its
    /// ASN.1 (CertificationRequest → CertificationRequestInfo → SubjectPublicKeyInfo):
    /// "RSA 1024 bits", or the algorithm's object identifier; nil when the request is
    /// not even that well-formed.
    static func unreadableKey(_ der: [UInt8]) -> String? {
        func children(_ node: ASN1Node?) -> [ASN1Node] {
            guard let node, case .constructed(let nodes) = node.content else { return [] }
            return Array(nodes)
        }
        guard let root = try? DER.parse(der) else { return nil }
        let info = children(children(root).first)
        guard info.count >= 3 else { return nil }
        let keyInfo = children(info[2])
        guard keyInfo.count == 2, let algorithm = children(keyInfo[0]).first,
            let oid = try? ASN1ObjectIdentifier(derEncoded: algorithm)
        else { return nil }
        guard oid == .AlgorithmIdentifier.rsaEncryption else { return "algorithm \(oid)" }
        guard let bits = try? ASN1BitString(derEncoded: keyInfo[1]),
            let rsaKey = try? DER.parse(Array(bits.bytes)), let modulus = children(rsaKey).first,
            case .primitive(let bytes) = modulus.content
        else { return "RSA" }
        let significant = bytes.drop { $0 == 0 }
        guard let first = significant.first else { return "RSA" }
        return "RSA \(significant.count * 8 - first.leadingZeroBitCount) bits"
    }

    /// Why `key` is not allowed ("P-521", "RSA 1024 bits"), or nil when it is.
    static func keyRefusal(_ key: Certificate.PublicKey) -> String? {
        if P256.Signing.PublicKey(key) != nil || P384.Signing.PublicKey(key) != nil { return nil }
        if P521.Signing.PublicKey(key) != nil { return "ECDSA P-521" }
        if let rsa = _RSA.Signing.PublicKey(key) {
            return rsaKeySizes.contains(rsa.keySizeInBits) ? nil : "RSA \(rsa.keySizeInBits) bits"
        }
        if Curve25519.Signing.PublicKey(key) != nil { return "Ed25519" }
        return "\(key)"
    }

    static func values(of type: ASN1ObjectIdentifier, in name: DistinguishedName) -> [String] {
        name.flatMap { $0 }.filter { $0.type == type }.map { String($0.value) ?? "\($0.value)" }
    }
}

/// Why a certificate signing request was refused; the description is the reason
/// operators read in the station's events.
public enum CertificateRequestRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a PEM (or base64 DER) PKCS #10 certificate signing request.
    case notACertificateRequest
    /// The request is not signed by the key it carries.
    case badSignature
    case noCommonName
    /// The subject CN (several joined with commas) is not the station's identity.
    case commonNameNotIdentity(String, identity: String)
    case noOrganization(required: String)
    /// The subject O (several joined with commas) is not the configured organization.
    case organizationNotConfigured(String, required: String)
    /// The key's type or size, e.g. "RSA 1024 bits".
    case keyNotAllowed(String)

    public var description: String {
        switch self {
        case .notACertificateRequest:
            "the csr is not a PEM PKCS#10 certificate signing request"
        case .badSignature:
            "the request's signature does not verify with its public key"
        case .noCommonName:
            "the subject has no CN"
        case .commonNameNotIdentity(let commonName, let identity):
            "CN \(commonName) is not the station identity \(identity)"
        case .noOrganization(let required):
            "the subject has no O (required: \(required))"
        case .organizationNotConfigured(let organization, let required):
            "O \(organization) is not the configured organization \(required)"
        case .keyNotAllowed(let key):
            "key \(key) is not allowed (ECDSA P-256 or P-384, or RSA of 2048 to 8192 bits)"
        }
    }
}
