/// FirmwareStatusNotification, charge point → central system (FirmwareManagement).
///
/// Reports the progress of the firmware update started by UpdateFirmware. `Idle` is
/// only sent in answer to a TriggerMessage while no update is in progress.
public struct FirmwareStatusNotificationRequest: OCPPRequest {
    public typealias Response = FirmwareStatusNotificationResponse
    public static let action = OCPPAction.firmwareStatusNotification

    public var status: FirmwareStatus

    public init(status: FirmwareStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

/// FirmwareStatusNotification.conf: an empty acknowledgement.
public struct FirmwareStatusNotificationResponse: OCPPResponse {
    public init() {}

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {}

    public func encodeFields(to writer: inout JSONWriter) {}
}

public enum FirmwareStatus: String, OCPPEnum {
    case downloaded = "Downloaded"
    case downloadFailed = "DownloadFailed"
    case downloading = "Downloading"
    case idle = "Idle"
    case installationFailed = "InstallationFailed"
    case installing = "Installing"
    case installed = "Installed"
}
