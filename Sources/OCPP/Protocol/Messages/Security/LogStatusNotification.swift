/// LogStatusNotification, charge point → central system (security whitepaper).
///
/// Reports the progress of a log upload started by GetLog.
public struct LogStatusNotificationRequest: OCPPRequest {
    public typealias Response = LogStatusNotificationResponse
    public static let action = OCPPAction.logStatusNotification

    public var status: UploadLogStatus
    /// The `requestId` of the GetLog.req that started the upload.
    public var requestId: Int?

    public init(status: UploadLogStatus, requestId: Int? = nil) {
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

/// LogStatusNotification.conf: an empty acknowledgement.
public struct LogStatusNotificationResponse: OCPPResponse {
    public init() {}

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {}

    public func encodeFields(to writer: inout JSONWriter) {}
}

/// `UploadLogStatusEnumType`.
public enum UploadLogStatus: String, OCPPEnum {
    case badMessage = "BadMessage"
    /// Only in a notification triggered by ExtendedTriggerMessage.
    case idle = "Idle"
    case notSupportedOperation = "NotSupportedOperation"
    case permissionDenied = "PermissionDenied"
    case uploaded = "Uploaded"
    case uploadFailure = "UploadFailure"
    case uploading = "Uploading"
}
