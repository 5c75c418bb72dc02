/// SignCertificate, charge point → central system (security whitepaper).
///
/// Sends a certificate signing request for the charge point's own key pair; once
/// the CA has signed it, the central system returns the certificate with
/// CertificateSigned.
public struct SignCertificateRequest: OCPPRequest {
    public typealias Response = SignCertificateResponse
    public static let action = OCPPAction.signCertificate

    /// The PEM-encoded PKCS #10 certificate signing request (RFC 2986). At most
    /// 5500 characters.
    public var csr: String

    public init(csr: String) {
        self.csr = csr
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        csr = try reader.required("csr", maxLength: 5500)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("csr", csr)
    }
}

/// SignCertificate.conf: whether the central system will process the request.
public struct SignCertificateResponse: OCPPResponse {
    public var status: GenericStatus

    public init(status: GenericStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

/// `GenericStatusEnumType`.
public enum GenericStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
}
