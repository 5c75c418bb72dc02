/// DeleteCertificate, central system → charge point (security whitepaper).
///
/// Asks the charge point to remove one installed root certificate, identified by
/// its hashes as reported by GetInstalledCertificateIds.
public struct DeleteCertificateRequest: OCPPRequest {
    public typealias Response = DeleteCertificateResponse
    public static let action = OCPPAction.deleteCertificate

    public var certificateHashData: CertificateHashData

    public init(certificateHashData: CertificateHashData) {
        self.certificateHashData = certificateHashData
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        certificateHashData = try reader.required("certificateHashData")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("certificateHashData", certificateHashData)
    }
}

/// DeleteCertificate.conf: whether the certificate was deleted.
public struct DeleteCertificateResponse: OCPPResponse {
    public var status: DeleteCertificateStatus

    public init(status: DeleteCertificateStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

/// `DeleteCertificateStatusEnumType`.
public enum DeleteCertificateStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case failed = "Failed"
    case notFound = "NotFound"
}
