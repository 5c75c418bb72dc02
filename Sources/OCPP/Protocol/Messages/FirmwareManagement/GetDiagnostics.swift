import Foundation

/// GetDiagnostics, central system → charge point (FirmwareManagement).
///
/// Asks the charge point to upload a diagnostics file to `location`. It answers with
/// the name of the file it will upload, or none when it has no diagnostics, and then
/// reports the upload's progress with DiagnosticsStatusNotification.
public struct GetDiagnosticsRequest: OCPPRequest {
    public typealias Response = GetDiagnosticsResponse
    public static let action = OCPPAction.getDiagnostics

    /// A URI (`format: uri`), the directory to upload to.
    public var location: String
    /// How many times to retry the upload before giving up.
    public var retries: Int?
    /// Seconds between retries.
    public var retryInterval: Int?
    /// The oldest logging information to include.
    public var startTime: Date?
    /// The newest logging information to include.
    public var stopTime: Date?

    public init(
        location: String, retries: Int? = nil, retryInterval: Int? = nil, startTime: Date? = nil,
        stopTime: Date? = nil
    ) {
        self.location = location
        self.retries = retries
        self.retryInterval = retryInterval
        self.startTime = startTime
        self.stopTime = stopTime
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        location = try reader.required("location")
        retries = try reader.optional("retries")
        retryInterval = try reader.optional("retryInterval")
        startTime = try reader.optional("startTime")
        stopTime = try reader.optional("stopTime")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("location", location)
        writer.field("retries", retries)
        writer.field("retryInterval", retryInterval)
        writer.field("startTime", startTime)
        writer.field("stopTime", stopTime)
    }
}

/// GetDiagnostics.conf: the name of the file that will be uploaded, absent when no
/// diagnostics are available.
public struct GetDiagnosticsResponse: OCPPResponse {
    /// CiString255.
    public var fileName: String?

    public init(fileName: String? = nil) {
        self.fileName = fileName
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        fileName = try reader.optional("fileName", maxLength: 255)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("fileName", fileName)
    }
}
