import Foundation

/// StartTransaction, charge point → central system (Core).
///
/// Reports that a transaction has started on a connector. The central system must
/// answer with the `transactionId` the charge point uses from then on, and with the
/// id tag's authorization status; a reservation the transaction ends is named in
/// `reservationId`.
public struct StartTransactionRequest: OCPPRequest {
    public typealias Response = StartTransactionResponse
    public static let action = OCPPAction.startTransaction

    public var connectorId: Int
    /// CiString20.
    public var idTag: String
    /// The energy meter's reading at the start, in Wh.
    public var meterStart: Int
    public var reservationId: Int?
    public var timestamp: Date

    public init(connectorId: Int, idTag: String, meterStart: Int, timestamp: Date, reservationId: Int? = nil) {
        self.connectorId = connectorId
        self.idTag = idTag
        self.meterStart = meterStart
        self.timestamp = timestamp
        self.reservationId = reservationId
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        connectorId = try reader.required("connectorId", in: .transactionConnectorID)
        idTag = try reader.required("idTag", maxLength: 20)
        meterStart = try reader.required("meterStart")
        reservationId = try reader.optional("reservationId", in: .int32)
        timestamp = try reader.required("timestamp")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("connectorId", connectorId)
        writer.field("idTag", idTag)
        writer.field("meterStart", meterStart)
        writer.field("reservationId", reservationId)
        writer.field("timestamp", timestamp)
    }
}

/// StartTransaction.conf: the transaction's id and whether the id tag is accepted.
public struct StartTransactionResponse: OCPPResponse {
    public var idTagInfo: IdTagInfo
    public var transactionId: Int

    public init(idTagInfo: IdTagInfo, transactionId: Int) {
        self.idTagInfo = idTagInfo
        self.transactionId = transactionId
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        idTagInfo = try reader.required("idTagInfo")
        transactionId = try reader.required("transactionId")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("idTagInfo", idTagInfo)
        writer.field("transactionId", transactionId)
    }
}
