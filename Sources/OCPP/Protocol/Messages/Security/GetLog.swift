import Foundation

/// GetLog, central system → charge point (security whitepaper).
///
/// Asks the charge point to upload its diagnostics or security log to a URL,
/// optionally limited to a time range. It replaces GetDiagnostics; progress is
/// reported with LogStatusNotification.
public struct GetLogRequest: OCPPRequest {
    public typealias Response = GetLogResponse
    public static let action = OCPPAction.getLog

    public var logType: LogType
    /// Echoed in the LogStatusNotification.req of this upload.
    public var requestId: Int
    /// How many times to try the upload before giving up.
    public var retries: Int?
    /// Seconds between attempts.
    public var retryInterval: Int?
    public var log: LogParameters

    public init(logType: LogType, requestId: Int, log: LogParameters, retries: Int? = nil, retryInterval: Int? = nil) {
        self.logType = logType
        self.requestId = requestId
        self.log = log
        self.retries = retries
        self.retryInterval = retryInterval
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        log = try reader.required("log")
        logType = try reader.required("logType")
        requestId = try reader.required("requestId")
        retries = try reader.optional("retries")
        retryInterval = try reader.optional("retryInterval")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("log", log)
        writer.field("logType", logType)
        writer.field("requestId", requestId)
        writer.field("retries", retries)
        writer.field("retryInterval", retryInterval)
    }
}

/// `LogParametersType`: where to upload the log and which entries to include.
public struct LogParameters: JSONObjectCodable {
    /// The URL to upload the log to. At most 512 characters.
    public var remoteLocation: String
    /// The oldest entries to include.
    public var oldestTimestamp: Date?
    /// The latest entries to include.
    public var latestTimestamp: Date?

    public init(remoteLocation: String, oldestTimestamp: Date? = nil, latestTimestamp: Date? = nil) {
        self.remoteLocation = remoteLocation
        self.oldestTimestamp = oldestTimestamp
        self.latestTimestamp = latestTimestamp
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        remoteLocation = try reader.required("remoteLocation", maxLength: 512)
        oldestTimestamp = try reader.optional("oldestTimestamp")
        latestTimestamp = try reader.optional("latestTimestamp")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("remoteLocation", remoteLocation)
        writer.field("oldestTimestamp", oldestTimestamp)
        writer.field("latestTimestamp", latestTimestamp)
    }
}

/// GetLog.conf: whether the charge point starts the upload, and the name of the
/// file it will upload.
public struct GetLogResponse: OCPPResponse {
    public var status: LogStatus
    /// Absent when there is no log to upload. At most 255 characters.
    public var filename: String?

    public init(status: LogStatus, filename: String? = nil) {
        self.status = status
        self.filename = filename
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
        filename = try reader.optional("filename", maxLength: 255)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
        writer.field("filename", filename)
    }
}

/// `LogEnumType`: which log to upload.
public enum LogType: String, OCPPEnum {
    case diagnosticsLog = "DiagnosticsLog"
    case securityLog = "SecurityLog"
}

/// `LogStatusEnumType`.
public enum LogStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
    /// Accepted, and an upload in progress was canceled for it.
    case acceptedCanceled = "AcceptedCanceled"
}
