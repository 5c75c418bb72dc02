import SwiftASN1
import X509

/// The names in a station's client certificate that security profile 3 checks.
struct StationCertificate: Sendable, Equatable {
    var commonNames: [String]
    var organizations: [String]
    /// subjectAlternativeName DNS names.
    var dnsNames: [String]
    /// Hexadecimal, for log lines.
    var serialNumber: String
    /// Whether the certificate names client authentication among its extended key
    /// usages. An absent extension would allow any usage (RFC 5280); a station
    /// certificate must say it is for a TLS client.
    var allowsClientAuthentication: Bool

    init(
        commonNames: [String], organizations: [String], dnsNames: [String], serialNumber: String = "",
        allowsClientAuthentication: Bool = true
    ) {
        self.commonNames = commonNames
        self.organizations = organizations
        self.dnsNames = dnsNames
        self.serialNumber = serialNumber
        self.allowsClientAuthentication = allowsClientAuthentication
    }

    /// Reads a DER certificate (as TLS delivered it, so its chain is already verified).
    init(derEncoded bytes: [UInt8]) throws {
        let certificate = try Certificate(derEncoded: bytes)
        let attributes = certificate.subject.flatMap { $0 }
        func values(_ type: ASN1ObjectIdentifier) -> [String] {
            attributes.filter { $0.type == type }.compactMap { String($0.value) }
        }
        self.commonNames = values(.RDNAttributeType.commonName)
        self.organizations = values(.RDNAttributeType.organizationName)
        let alternativeNames = try certificate.extensions.subjectAlternativeNames.map { Array($0) } ?? []
        self.dnsNames = alternativeNames.compactMap { name in
            if case .dnsName(let dnsName) = name { return dnsName }
            return nil
        }
        self.allowsClientAuthentication =
            try certificate.extensions.extendedKeyUsage?.contains(.clientAuth) ?? false
        self.serialNumber = certificate.serialNumber.bytes.map { byte in
            (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }
}
