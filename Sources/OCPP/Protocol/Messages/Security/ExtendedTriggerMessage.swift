/// ExtendedTriggerMessage, central system → charge point (security whitepaper).
///
/// Asks the charge point to send a given message now. Unlike OCPP 1.6's
/// TriggerMessage it can also trigger LogStatusNotification, the signed
/// FirmwareStatusNotification and a SignCertificate for the charge point
/// certificate.
public struct ExtendedTriggerMessageRequest: OCPPRequest {
    public typealias Response = ExtendedTriggerMessageResponse
    public static let action = OCPPAction.extendedTriggerMessage

    public var requestedMessage: ExtendedMessageTrigger
    /// Only when the request applies to one connector. The whitepaper says it is
    /// above 0; the schema does not constrain it.
    public var connectorId: Int?

    public init(requestedMessage: ExtendedMessageTrigger, connectorId: Int? = nil) {
        self.requestedMessage = requestedMessage
        self.connectorId = connectorId
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        requestedMessage = try reader.required("requestedMessage")
        connectorId = try reader.optional("connectorId")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("requestedMessage", requestedMessage)
        writer.field("connectorId", connectorId)
    }
}

/// ExtendedTriggerMessage.conf: whether the charge point will send the message.
public struct ExtendedTriggerMessageResponse: OCPPResponse {
    public var status: ExtendedTriggerMessageStatus

    public init(status: ExtendedTriggerMessageStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

/// `MessageTriggerEnumType` of the security whitepaper.
public enum ExtendedMessageTrigger: String, OCPPEnum {
    case bootNotification = "BootNotification"
    case logStatusNotification = "LogStatusNotification"
    /// Triggers SignedFirmwareStatusNotification.req.
    case firmwareStatusNotification = "FirmwareStatusNotification"
    case heartbeat = "Heartbeat"
    case meterValues = "MeterValues"
    /// Triggers SignCertificate.req for the charge point certificate.
    case signChargePointCertificate = "SignChargePointCertificate"
    case statusNotification = "StatusNotification"
}

/// `TriggerMessageStatusEnumType` of the security whitepaper.
public enum ExtendedTriggerMessageStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
    case notImplemented = "NotImplemented"
}
