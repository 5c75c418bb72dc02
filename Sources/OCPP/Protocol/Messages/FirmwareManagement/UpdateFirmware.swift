import Foundation

/// UpdateFirmware, central system → charge point (FirmwareManagement).
///
/// Tells the charge point to download new firmware from `location` at or after
/// `retrieveDate` and install it. It reports the progress with
/// FirmwareStatusNotification.
public struct UpdateFirmwareRequest: OCPPRequest {
    public typealias Response = UpdateFirmwareResponse
    public static let action = OCPPAction.updateFirmware

    /// A URI (`format: uri`) to download the firmware from.
    public var location: String
    /// How many times to retry the download before giving up.
    public var retries: Int?
    /// When to download the firmware, at the earliest.
    public var retrieveDate: Date
    /// Seconds between retries.
    public var retryInterval: Int?

    public init(location: String, retrieveDate: Date, retries: Int? = nil, retryInterval: Int? = nil) {
        self.location = location
        self.retrieveDate = retrieveDate
        self.retries = retries
        self.retryInterval = retryInterval
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        location = try reader.required("location")
        retries = try reader.optional("retries")
        retrieveDate = try reader.required("retrieveDate")
        retryInterval = try reader.optional("retryInterval")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("location", location)
        writer.field("retries", retries)
        writer.field("retrieveDate", retrieveDate)
        writer.field("retryInterval", retryInterval)
    }
}

/// UpdateFirmware.conf: an empty acknowledgement.
public struct UpdateFirmwareResponse: OCPPResponse {
    public init() {}

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {}

    public func encodeFields(to writer: inout JSONWriter) {}
}
