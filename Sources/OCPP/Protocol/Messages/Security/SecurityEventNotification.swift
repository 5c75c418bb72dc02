import Foundation

/// SecurityEventNotification, charge point → central system (security whitepaper).
///
/// Tells the central system that a security event happened on the charge point,
/// such as a firmware update, a reset or a failed TLS handshake. Critical events
/// are queued while offline and delivered later.
public struct SecurityEventNotificationRequest: OCPPRequest {
    public typealias Response = SecurityEventNotificationResponse
    public static let action = OCPPAction.securityEventNotification

    /// The event, e.g. `FirmwareUpdated` or `InvalidCentralSystemCertificate`; the
    /// whitepaper lists the known ones but the schema takes any string. At most 50
    /// characters.
    public var type: String
    /// When the event happened.
    public var timestamp: Date
    /// Free-form details. At most 255 characters.
    public var techInfo: String?

    public init(type: String, timestamp: Date, techInfo: String? = nil) {
        self.type = type
        self.timestamp = timestamp
        self.techInfo = techInfo
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        type = try reader.required("type", maxLength: 50)
        timestamp = try reader.required("timestamp")
        techInfo = try reader.optional("techInfo", maxLength: 255)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("type", type)
        writer.field("timestamp", timestamp)
        writer.field("techInfo", techInfo)
    }
}

/// SecurityEventNotification.conf: an empty acknowledgement.
public struct SecurityEventNotificationResponse: OCPPResponse {
    public init() {}

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {}

    public func encodeFields(to writer: inout JSONWriter) {}
}
