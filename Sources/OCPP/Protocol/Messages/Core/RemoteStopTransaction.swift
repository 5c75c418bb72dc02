/// RemoteStopTransaction, central system → charge point (Core).
///
/// Asks the charge point to stop a transaction as if it had been stopped locally;
/// the charge point then reports it with StopTransaction, reason `Remote`.
public struct RemoteStopTransactionRequest: OCPPRequest {
    public typealias Response = RemoteStopTransactionResponse
    public static let action = OCPPAction.remoteStopTransaction

    public var transactionId: Int

    public init(transactionId: Int) {
        self.transactionId = transactionId
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        transactionId = try reader.required("transactionId")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("transactionId", transactionId)
    }
}

/// RemoteStopTransaction.conf: whether the charge point will stop the transaction.
public struct RemoteStopTransactionResponse: OCPPResponse {
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
