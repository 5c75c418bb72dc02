/// `CertificateHashDataType` (security whitepaper): identifies one installed
/// certificate by hashes of its issuer and by its serial number, as OCSP does
/// (RFC 6960). Used by DeleteCertificate.req and GetInstalledCertificateIds.conf.
public struct CertificateHashData: JSONObjectCodable {
    public var hashAlgorithm: HashAlgorithm
    /// Hash of the DER-encoded issuer distinguished name, in hex. CiString128.
    public var issuerNameHash: String
    /// Hash of the DER-encoded issuer public key, in hex. CiString128.
    public var issuerKeyHash: String
    /// The serial number in hex, without leading zeroes or `0x`. CiString40.
    public var serialNumber: String

    public init(hashAlgorithm: HashAlgorithm, issuerNameHash: String, issuerKeyHash: String, serialNumber: String) {
        self.hashAlgorithm = hashAlgorithm
        self.issuerNameHash = issuerNameHash
        self.issuerKeyHash = issuerKeyHash
        self.serialNumber = serialNumber
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        hashAlgorithm = try reader.required("hashAlgorithm")
        issuerNameHash = try reader.required("issuerNameHash", maxLength: 128)
        issuerKeyHash = try reader.required("issuerKeyHash", maxLength: 128)
        serialNumber = try reader.required("serialNumber", maxLength: 40)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("hashAlgorithm", hashAlgorithm)
        writer.field("issuerNameHash", issuerNameHash)
        writer.field("issuerKeyHash", issuerKeyHash)
        writer.field("serialNumber", serialNumber)
    }
}

/// `HashAlgorithmEnumType`: the algorithm of the hashes in ``CertificateHashData``.
public enum HashAlgorithm: String, OCPPEnum {
    case sha256 = "SHA256"
    case sha384 = "SHA384"
    case sha512 = "SHA512"
}
