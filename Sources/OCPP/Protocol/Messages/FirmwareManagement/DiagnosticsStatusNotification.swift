/// DiagnosticsStatusNotification, charge point → central system (FirmwareManagement).
///
/// Reports the progress of the diagnostics upload started by GetDiagnostics. `Idle`
/// is only sent in answer to a TriggerMessage while no upload is in progress.
public struct DiagnosticsStatusNotificationRequest: OCPPRequest {
    public typealias Response = DiagnosticsStatusNotificationResponse
    public static let action = OCPPAction.diagnosticsStatusNotification

    public var status: DiagnosticsStatus

    public init(status: DiagnosticsStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

/// DiagnosticsStatusNotification.conf: an empty acknowledgement.
public struct DiagnosticsStatusNotificationResponse: OCPPResponse {
    public init() {}

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {}

    public func encodeFields(to writer: inout JSONWriter) {}
}

public enum DiagnosticsStatus: String, OCPPEnum {
    case idle = "Idle"
    case uploaded = "Uploaded"
    case uploadFailed = "UploadFailed"
    case uploading = "Uploading"
}
