/// GetInstalledCertificateIds, central system → charge point (security
/// whitepaper).
///
/// Asks which root certificates of one kind the charge point has installed; the
/// answer identifies each by its hashes, for use in DeleteCertificate.
public struct GetInstalledCertificateIdsRequest: OCPPRequest {
    public typealias Response = GetInstalledCertificateIdsResponse
    public static let action = OCPPAction.getInstalledCertificateIds

    public var certificateType: CertificateUse

    public init(certificateType: CertificateUse) {
        self.certificateType = certificateType
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        certificateType = try reader.required("certificateType")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("certificateType", certificateType)
    }
}

/// GetInstalledCertificateIds.conf: the installed certificates of the requested
/// kind, or `NotFound`.
public struct GetInstalledCertificateIdsResponse: OCPPResponse {
    public var status: GetInstalledCertificateStatus
    /// At least one entry when present.
    public var certificateHashData: [CertificateHashData]?

    public init(status: GetInstalledCertificateStatus, certificateHashData: [CertificateHashData]? = nil) {
        self.status = status
        self.certificateHashData = certificateHashData
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        certificateHashData = try reader.optional("certificateHashData", minItems: 1)
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("certificateHashData", certificateHashData)
        writer.field("status", status)
    }
}

/// `GetInstalledCertificateStatusEnumType`.
public enum GetInstalledCertificateStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case notFound = "NotFound"
}
