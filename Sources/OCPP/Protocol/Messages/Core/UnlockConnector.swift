/// UnlockConnector, central system → charge point (Core).
///
/// Asks the charge point to unlock a connector, typically to free a stuck cable. A
/// transaction running on it is stopped first, with reason `UnlockCommand`.
public struct UnlockConnectorRequest: OCPPRequest {
    public typealias Response = UnlockConnectorResponse
    public static let action = OCPPAction.unlockConnector

    public var connectorId: Int

    public init(connectorId: Int) {
        self.connectorId = connectorId
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        connectorId = try reader.required("connectorId")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("connectorId", connectorId)
    }
}

/// UnlockConnector.conf: whether the connector was unlocked.
public struct UnlockConnectorResponse: OCPPResponse {
    public var status: UnlockStatus

    public init(status: UnlockStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

public enum UnlockStatus: String, OCPPEnum {
    case unlocked = "Unlocked"
    case unlockFailed = "UnlockFailed"
    case notSupported = "NotSupported"
}
