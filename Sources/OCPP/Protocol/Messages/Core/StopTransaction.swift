import Foundation

/// StopTransaction, charge point → central system (Core).
///
/// Reports that a transaction has ended. `idTag` is present when an identifier
/// stopped it, and the central system then answers with that tag's status; an absent
/// `reason` means `Local`. `transactionData` may carry meter values taken during the
/// transaction.
public struct StopTransactionRequest: OCPPRequest {
    public typealias Response = StopTransactionResponse
    public static let action = OCPPAction.stopTransaction

    /// CiString20.
    public var idTag: String?
    /// The energy meter's reading at the end, in Wh.
    public var meterStop: Int
    public var reason: StopReason?
    public var timestamp: Date
    public var transactionData: [MeterValue]?
    public var transactionId: Int

    public init(
        transactionId: Int, meterStop: Int, timestamp: Date, idTag: String? = nil, reason: StopReason? = nil,
        transactionData: [MeterValue]? = nil
    ) {
        self.transactionId = transactionId
        self.meterStop = meterStop
        self.timestamp = timestamp
        self.idTag = idTag
        self.reason = reason
        self.transactionData = transactionData
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        idTag = try reader.optional("idTag", maxLength: 20)
        meterStop = try reader.required("meterStop")
        timestamp = try reader.required("timestamp")
        transactionId = try reader.required("transactionId", in: .int32)
        reason = try reader.optional("reason")
        transactionData = try reader.optional("transactionData")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("idTag", idTag)
        writer.field("meterStop", meterStop)
        writer.field("timestamp", timestamp)
        writer.field("transactionId", transactionId)
        writer.field("reason", reason)
        writer.field("transactionData", transactionData)
    }
}

/// StopTransaction.conf: the status of the id tag that stopped the transaction, if
/// one did.
public struct StopTransactionResponse: OCPPResponse {
    public var idTagInfo: IdTagInfo?

    public init(idTagInfo: IdTagInfo? = nil) {
        self.idTagInfo = idTagInfo
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        idTagInfo = try reader.optional("idTagInfo")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("idTagInfo", idTagInfo)
    }
}

public enum StopReason: String, OCPPEnum {
    case emergencyStop = "EmergencyStop"
    case evDisconnected = "EVDisconnected"
    case hardReset = "HardReset"
    case local = "Local"
    case other = "Other"
    case powerLoss = "PowerLoss"
    case reboot = "Reboot"
    case remote = "Remote"
    case softReset = "SoftReset"
    case unlockCommand = "UnlockCommand"
    case deAuthorized = "DeAuthorized"
}
