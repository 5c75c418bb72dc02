/// RemoteStartTransaction, central system → charge point (Core).
///
/// Asks the charge point to start a transaction for an id tag, on the given connector
/// or one it chooses, optionally with a `TxProfile` charging profile for it.
/// `Accepted` only means the charge point will try; the transaction itself is
/// reported with StartTransaction.
public struct RemoteStartTransactionRequest: OCPPRequest {
    public typealias Response = RemoteStartTransactionResponse
    public static let action = OCPPAction.remoteStartTransaction

    /// The specification requires purpose `TxProfile`; the schema does not check it.
    public var chargingProfile: ChargingProfile?
    /// The specification requires it greater than 0; the schema does not check it.
    public var connectorId: Int?
    /// CiString20.
    public var idTag: String

    public init(idTag: String, connectorId: Int? = nil, chargingProfile: ChargingProfile? = nil) {
        self.idTag = idTag
        self.connectorId = connectorId
        self.chargingProfile = chargingProfile
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        connectorId = try reader.optional("connectorId")
        idTag = try reader.required("idTag", maxLength: 20)
        chargingProfile = try reader.optional("chargingProfile")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("connectorId", connectorId)
        writer.field("idTag", idTag)
        writer.field("chargingProfile", chargingProfile)
    }
}

/// RemoteStartTransaction.conf: whether the charge point will try to start.
public struct RemoteStartTransactionResponse: OCPPResponse {
    public var status: RemoteStartStopStatus

    public init(status: RemoteStartStopStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

/// The answer to RemoteStartTransaction and RemoteStopTransaction.
public enum RemoteStartStopStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
}
