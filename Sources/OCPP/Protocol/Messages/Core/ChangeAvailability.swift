/// ChangeAvailability, central system → charge point (Core).
///
/// Makes one connector, or with `connectorId` 0 the whole charge point, operative or
/// inoperative. When a transaction is in progress the charge point answers
/// `Scheduled` and changes availability once the transaction has finished.
public struct ChangeAvailabilityRequest: OCPPRequest {
    public typealias Response = ChangeAvailabilityResponse
    public static let action = OCPPAction.changeAvailability

    /// 0 for the whole charge point.
    public var connectorId: Int
    public var type: AvailabilityType

    public init(connectorId: Int, type: AvailabilityType) {
        self.connectorId = connectorId
        self.type = type
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        connectorId = try reader.required("connectorId")
        type = try reader.required("type")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("connectorId", connectorId)
        writer.field("type", type)
    }
}

/// ChangeAvailability.conf: whether the change was made, refused, or scheduled for
/// after the running transaction.
public struct ChangeAvailabilityResponse: OCPPResponse {
    public var status: ChangeAvailabilityStatus

    public init(status: ChangeAvailabilityStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

public enum AvailabilityType: String, OCPPEnum {
    case inoperative = "Inoperative"
    case operative = "Operative"
}

public enum ChangeAvailabilityStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
    case scheduled = "Scheduled"
}
