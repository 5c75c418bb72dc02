/// SignedFirmwareStatusNotification, charge point → central system (security
/// whitepaper).
///
/// Reports the progress of a firmware update started by SignedUpdateFirmware,
/// including the checks of the firmware's signature. It replaces
/// FirmwareStatusNotification for signed updates.
public struct SignedFirmwareStatusNotificationRequest: OCPPRequest {
    public typealias Response = SignedFirmwareStatusNotificationResponse
    public static let action = OCPPAction.signedFirmwareStatusNotification

    public var status: SignedFirmwareStatus
    /// The `requestId` of the SignedUpdateFirmware.req being reported on. The
    /// whitepaper requires it unless the status is `Idle`; the schema does not.
    public var requestId: Int?

    public init(status: SignedFirmwareStatus, requestId: Int? = nil) {
        self.status = status
        self.requestId = requestId
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
        requestId = try reader.optional("requestId", in: .int32)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
        writer.field("requestId", requestId)
    }
}

/// SignedFirmwareStatusNotification.conf: an empty acknowledgement.
public struct SignedFirmwareStatusNotificationResponse: OCPPResponse {
    public init() {}

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {}

    public func encodeFields(to writer: inout JSONWriter) {}
}

/// `FirmwareStatusEnumType` of the security whitepaper: a superset of OCPP 1.6's
/// firmware statuses, with scheduling and signature-check states.
public enum SignedFirmwareStatus: String, OCPPEnum {
    case downloaded = "Downloaded"
    case downloadFailed = "DownloadFailed"
    case downloading = "Downloading"
    case downloadScheduled = "DownloadScheduled"
    case downloadPaused = "DownloadPaused"
    /// Only in a notification triggered by ExtendedTriggerMessage.
    case idle = "Idle"
    case installationFailed = "InstallationFailed"
    case installing = "Installing"
    case installed = "Installed"
    case installRebooting = "InstallRebooting"
    case installScheduled = "InstallScheduled"
    case installVerificationFailed = "InstallVerificationFailed"
    case invalidSignature = "InvalidSignature"
    case signatureVerified = "SignatureVerified"
}
