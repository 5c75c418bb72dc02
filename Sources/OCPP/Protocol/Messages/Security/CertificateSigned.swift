/// CertificateSigned, central system → charge point (security whitepaper).
///
/// Delivers the charge point certificate that the CA signed in answer to the
/// charge point's SignCertificate, for the charge point to install.
public struct CertificateSignedRequest: OCPPRequest {
    public typealias Response = CertificateSignedResponse
    public static let action = OCPPAction.certificateSigned

    /// The signed PEM-encoded X.509 certificate, possibly followed by the
    /// intermediate CA certificates. At most 10000 characters.
    public var certificateChain: String

    public init(certificateChain: String) {
        self.certificateChain = certificateChain
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        certificateChain = try reader.required("certificateChain", maxLength: 10000)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("certificateChain", certificateChain)
    }
}

/// CertificateSigned.conf: whether the charge point found the certificate valid.
public struct CertificateSignedResponse: OCPPResponse {
    public var status: CertificateSignedStatus

    public init(status: CertificateSignedStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

/// `CertificateSignedStatusEnumType`.
public enum CertificateSignedStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
}
