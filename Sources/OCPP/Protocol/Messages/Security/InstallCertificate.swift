/// InstallCertificate, central system → charge point (security whitepaper).
///
/// Installs a root certificate on the charge point: a central system root, used
/// to verify the central system's TLS certificate, or a manufacturer root, used
/// to verify signed firmware.
public struct InstallCertificateRequest: OCPPRequest {
    public typealias Response = InstallCertificateResponse
    public static let action = OCPPAction.installCertificate

    public var certificateType: CertificateUse
    /// The PEM-encoded X.509 certificate. At most 5500 characters.
    public var certificate: String

    public init(certificateType: CertificateUse, certificate: String) {
        self.certificateType = certificateType
        self.certificate = certificate
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        certificateType = try reader.required("certificateType")
        certificate = try reader.required("certificate", maxLength: 5500)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("certificateType", certificateType)
        writer.field("certificate", certificate)
    }
}

/// InstallCertificate.conf: whether the certificate was installed.
public struct InstallCertificateResponse: OCPPResponse {
    public var status: InstallCertificateStatus

    public init(status: InstallCertificateStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

/// `InstallCertificateStatusEnumType` (`CertificateStatusEnumType` in the
/// whitepaper's text).
public enum InstallCertificateStatus: String, OCPPEnum {
    case accepted = "Accepted"
    /// The certificate is valid but could not be installed.
    case failed = "Failed"
    /// The certificate is invalid, or too many are installed already.
    case rejected = "Rejected"
}
