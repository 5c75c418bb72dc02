/// Reset, central system → charge point (Core).
///
/// Asks the charge point to restart. A `Soft` reset stops running transactions
/// gracefully and restarts the application; a `Hard` reset restarts the hardware
/// without waiting for them. Either way, stopped transactions are reported with
/// StopTransaction.
public struct ResetRequest: OCPPRequest {
    public typealias Response = ResetResponse
    public static let action = OCPPAction.reset

    public var type: ResetType

    public init(type: ResetType) {
        self.type = type
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        type = try reader.required("type")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("type", type)
    }
}

/// Reset.conf: whether the charge point will restart.
public struct ResetResponse: OCPPResponse {
    public var status: ResetStatus

    public init(status: ResetStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

public enum ResetType: String, OCPPEnum {
    case hard = "Hard"
    case soft = "Soft"
}

public enum ResetStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
}
