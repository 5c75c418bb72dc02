import Foundation
import Shared

/// One row for `ocpp.inbox`: an accepted CALL, or a connect/disconnect event.
///
/// For a CALL the gateway has already validated the payload and prepared the
/// answer; the ingest writer makes the row durable and returns the answer that may
/// be sent (invariant 1: ack after commit).
struct WorkItem: Sendable {
    enum Kind: String, Sendable {
        case call
        case connected
        case disconnected
    }

    var kind: Kind
    var stationID: Int64
    /// The gateway's clock when the frame arrived.
    var receivedAt: Date
    /// The action name (CALLs only).
    var action: String?
    /// The OCPP unique id (CALLs only).
    var messageID: String?
    /// The payload: the CALL's, or the event's details for connect/disconnect.
    var payload: JSONObject?
    /// SHA-256 of the payload's compact JSON; with the station and message id, the
    /// retransmission key (CALLs only).
    var payloadDigest: [UInt8]?
    /// The CALLRESULT payload prepared by the gateway. For StartTransaction the
    /// writer sets `transactionId` from the database.
    var response: JSONObject?
    /// The station's own timestamp of the message, where it has one.
    var stationTime: Date?
    /// The content key of a StartTransaction, whose transaction id comes from the
    /// database sequence in the batch statement.
    var transactionStart: TransactionStartKey?
}

/// What makes two StartTransaction.req the same start, whatever their unique ids.
struct TransactionStartKey: Sendable, Hashable {
    var connectorID: Int
    var idTag: String
    var startedAt: Date
    var meterStart: Int
}

/// The result of making one work item durable.
struct IngestOutcome: Sendable, Equatable {
    /// The CALLRESULT payload to send: the prepared one (with the transaction id
    /// filled in), or, for a retransmission, the answer given the first time.
    var response: JSONObject?
    /// True when the CALL had been received before (same station, unique id and
    /// payload) and so caused no second effect.
    var isDuplicate: Bool
}
