import Foundation
import SwiftASN1
import X509

/// An X.509 certificate revocation list (RFC 5280 section 5.1):
///
/// ```
/// CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
/// TBSCertList ::= SEQUENCE {
///     version Version OPTIONAL, signature AlgorithmIdentifier, issuer Name, thisUpdate Time, nextUpdate Time OPTIONAL,
///     revokedCertificates SEQUENCE OF SEQUENCE {
///         userCertificate CertificateSerialNumber, revocationDate Time, crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
///     crlExtensions [0] EXPLICIT Extensions OPTIONAL }
/// ```
///
/// Only what checking a station certificate needs is kept: the issuer, the revoked serial
/// numbers, the validity and what verifying the signature takes.
struct CertificateRevocationList: Sendable {
    var issuer: DistinguishedName
    var thisUpdate: Date
    var nextUpdate: Date?
    var revokedSerialNumbers: Set<Certificate.SerialNumber>
    /// Nil when the algorithm is not one we verify (then no signature verifies).
    var signatureAlgorithm: Certificate.SignatureAlgorithm?
    var signature: [UInt8]
    /// The DER bytes of tbsCertList, which the signature covers.
    var signedBytes: [UInt8]

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    init(derEncoded bytes: [UInt8]) throws {
        let root = try DER.parse(bytes)
        var signed: ASN1Node?
        var outerAlgorithm: ASN1ObjectIdentifier?
        var signatureBits: ASN1BitString?
        try DER.sequence(root, identifier: .sequence) { nodes in
            signed = nodes.next()
            outerAlgorithm = try Self.algorithm(&nodes)
            signatureBits = try ASN1BitString(derEncoded: &nodes)
        }
        guard let signed, let outerAlgorithm, let signatureBits, signatureBits.paddingBits == 0 else {
            throw Invalid(description: "is not a CertificateList")
        }
        self.signedBytes = Array(signed.encodedBytes)
        self.signature = Array(signatureBits.bytes)
        self.signatureAlgorithm = Self.signatureAlgorithms[outerAlgorithm]

        var issuer: DistinguishedName?
        var thisUpdate: Date?
        var nextUpdate: Date?
        var revoked: Set<Certificate.SerialNumber> = []
        try DER.sequence(signed, identifier: .sequence) { nodes in
            if Self.peek(nodes) == .integer {
                let version = try Int(derEncoded: &nodes)
                // v2 (1) is the only version with the field; v1 lists omit it.
                guard version == 1 else { throw Invalid(description: "has unsupported version \(version + 1)") }
            }
            let innerAlgorithm = try Self.algorithm(&nodes)
            guard innerAlgorithm == outerAlgorithm else {
                throw Invalid(description: "names two different signature algorithms")
            }
            guard let name = nodes.next() else { throw Invalid(description: "is truncated") }
            issuer = try DistinguishedName(derEncoded: name)
            thisUpdate = try Self.time(&nodes)
            if let next = Self.peek(nodes), next == .utcTime || next == .generalizedTime {
                nextUpdate = try Self.time(&nodes)
            }
            if Self.peek(nodes) == .sequence, let list = nodes.next() {
                guard case .constructed(let entries) = list.content else {
                    throw Invalid(description: "has a malformed list of revoked certificates")
                }
                for entry in entries {
                    try DER.sequence(entry, identifier: .sequence) { fields in
                        let serial = try ArraySlice<UInt8>(derEncoded: &fields)
                        _ = try Self.time(&fields)
                        // Entry extensions (reason code, invalidity date) change nothing here.
                        while fields.next() != nil {}
                        revoked.insert(Certificate.SerialNumber(bytes: serial))
                    }
                }
            }
            try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) { node in
                let extensions = try DER.sequence(of: Certificate.Extension.self, identifier: .sequence, rootNode: node)
                // A critical extension we do not understand (a delta CRL, an issuing
                // distribution point) means the list must not be used (RFC 5280 5.2).
                let understood: Set<ASN1ObjectIdentifier> = [
                    .X509ExtensionID.authorityKeyIdentifier, Self.crlNumber,
                ]
                if let unknown = extensions.first(where: { $0.critical && !understood.contains($0.oid) }) {
                    throw Invalid(
                        description: "has a critical extension this gateway does not support (\(unknown.oid))")
                }
            }
        }
        guard let issuer, let thisUpdate else { throw Invalid(description: "is not a CertificateList") }
        self.issuer = issuer
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.revokedSerialNumbers = revoked
    }

    /// Whether `authority`, the list's issuer, signed it.
    func isSigned(by authority: Certificate) -> Bool {
        guard let signatureAlgorithm, authority.subject == issuer else { return false }
        return authority.publicKey.isValidSignature(signature, for: signedBytes, signatureAlgorithm: signatureAlgorithm)
    }

    /// Whether the list revokes `certificate` (issued by the list's issuer).
    func revokes(_ certificate: Certificate) -> Bool {
        certificate.issuer == issuer && revokedSerialNumbers.contains(certificate.serialNumber)
    }

    /// Past its nextUpdate: a newer list should exist.
    func isExpired(at now: Date) -> Bool {
        nextUpdate.map { $0 < now } ?? false
    }

    // MARK: Parsing helpers

    private static let crlNumber = ASN1ObjectIdentifier("2.5.29.20")

    private static let signatureAlgorithms: [ASN1ObjectIdentifier: Certificate.SignatureAlgorithm] = [
        "1.2.840.10045.4.3.2": .ecdsaWithSHA256,
        "1.2.840.10045.4.3.3": .ecdsaWithSHA384,
        "1.2.840.10045.4.3.4": .ecdsaWithSHA512,
        "1.2.840.113549.1.1.11": .sha256WithRSAEncryption,
        "1.2.840.113549.1.1.12": .sha384WithRSAEncryption,
        "1.2.840.113549.1.1.13": .sha512WithRSAEncryption,
        "1.3.101.112": .ed25519,
    ]

    private static func peek(_ nodes: ASN1NodeCollection.Iterator) -> ASN1Identifier? {
        var copy = nodes
        return copy.next()?.identifier
    }

    /// AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
    private static func algorithm(_ nodes: inout ASN1NodeCollection.Iterator) throws -> ASN1ObjectIdentifier {
        guard let node = nodes.next() else { throw Invalid(description: "is truncated") }
        return try DER.sequence(node, identifier: .sequence) { fields in
            let algorithm = try ASN1ObjectIdentifier(derEncoded: &fields)
            while fields.next() != nil {}
            return algorithm
        }
    }

    /// Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }
    private static func time(_ nodes: inout ASN1NodeCollection.Iterator) throws -> Date {
        guard let node = nodes.next() else { throw Invalid(description: "is truncated") }
        var components = DateComponents()
        switch node.identifier {
        case .utcTime:
            let time = try UTCTime(derEncoded: node)
            components = DateComponents(
                year: time.year, month: time.month, day: time.day, hour: time.hours, minute: time.minutes,
                second: time.seconds)
        case .generalizedTime:
            let time = try GeneralizedTime(derEncoded: node)
            components = DateComponents(
                year: time.year, month: time.month, day: time.day, hour: time.hours, minute: time.minutes,
                second: time.seconds)
        default:
            throw Invalid(description: "has a time that is neither UTCTime nor GeneralizedTime")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: components) else { throw Invalid(description: "has an invalid time") }
        return date
    }
}

/// The revocation lists of `OCPP_TLS_CRL`, each verified against the client CA
/// certificates that sign station certificates.
struct CertificateRevocations: Sendable {
    var lists: [CertificateRevocationList]

    /// Reads a PEM file of one or more "X509 CRL" blocks, or one DER list, and checks that
    /// one of `authorities` signed each list. Throws a reason for a configuration error.
    init(fileBytes: [UInt8], authorities: [Certificate]) throws(CertificateRevocationList.Invalid) {
        typealias Invalid = CertificateRevocationList.Invalid
        let ders: [[UInt8]]
        let text = String(decoding: fileBytes, as: UTF8.self)
        if text.contains("-----BEGIN") {
            guard let documents = try? PEMDocument.parseMultiple(pemString: text),
                !documents.isEmpty, documents.allSatisfy({ $0.discriminator == "X509 CRL" })
            else { throw Invalid(description: "is not a PEM file of X509 CRL blocks") }
            ders = documents.map(\.derBytes)
        } else {
            ders = [fileBytes]
        }
        var lists: [CertificateRevocationList] = []
        for (index, der) in ders.enumerated() {
            let position = ders.count > 1 ? " (list \(index + 1))" : ""
            let list: CertificateRevocationList
            do {
                list = try CertificateRevocationList(derEncoded: der)
            } catch let error as Invalid {
                throw Invalid(description: error.description + position)
            } catch {
                // An ASN.1 decoding error: its details name SwiftASN1's source, not the file.
                throw Invalid(description: "is not a DER or PEM (X509 CRL) certificate revocation list\(position)")
            }
            guard authorities.contains(where: list.isSigned(by:)) else {
                throw Invalid(
                    description:
                        "is not signed by any certificate of the client CA file\(position) (issuer \(list.issuer))")
            }
            lists.append(list)
        }
        self.lists = lists
    }

    func revokes(_ certificate: Certificate) -> Bool {
        lists.contains { $0.revokes(certificate) }
    }

    /// The lists past their nextUpdate.
    func expired(at now: Date) -> [CertificateRevocationList] {
        lists.filter { $0.isExpired(at: now) }
    }
}
