/// TriggerMessage, central system → charge point (RemoteTrigger).
///
/// Asks the charge point to send the requested message; it answers first and then
/// sends the message. `connectorId`, when given, limits the triggered message to that
/// connector.
public struct TriggerMessageRequest: OCPPRequest {
    public typealias Response = TriggerMessageResponse
    public static let action = OCPPAction.triggerMessage

    public var connectorId: Int?
    public var requestedMessage: MessageTrigger

    public init(requestedMessage: MessageTrigger, connectorId: Int? = nil) {
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

/// TriggerMessage.conf: whether the charge point will send the requested message.
public struct TriggerMessageResponse: OCPPResponse {
    public var status: TriggerMessageStatus

    public init(status: TriggerMessageStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

public enum MessageTrigger: String, OCPPEnum {
    case bootNotification = "BootNotification"
    case diagnosticsStatusNotification = "DiagnosticsStatusNotification"
    case firmwareStatusNotification = "FirmwareStatusNotification"
    case heartbeat = "Heartbeat"
    case meterValues = "MeterValues"
    case statusNotification = "StatusNotification"
}

public enum TriggerMessageStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
    case notImplemented = "NotImplemented"
}
