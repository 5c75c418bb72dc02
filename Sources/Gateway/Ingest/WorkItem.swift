import Crypto
import Foundation
import OCPP
import Shared

/// One row for `ocpp.inbox`: a station's accepted CALL, or a connect/disconnect
/// event of its session.
///
/// For a CALL the gateway has already validated the payload and encoded the answer;
/// the ingest writer makes the row durable and only then returns the CALLRESULT that
/// may be sent (invariant 1: ack after commit).
enum WorkItem: Sendable {
    case call(StationCallRow)
    case connected(SessionEvent)
    case disconnected(SessionEvent)

    var stationID: Int64 {
        switch self {
        case .call(let row): row.stationID
        case .connected(let event), .disconnected(let event): event.stationID
        }
    }

    var receivedAt: Date {
        switch self {
        case .call(let row): row.receivedAt
        case .connected(let event), .disconnected(let event): event.receivedAt
        }
    }

    /// `ocpp.inbox.kind`.
    var kind: String {
        switch self {
        case .call: "call"
        case .connected: "connected"
        case .disconnected: "disconnected"
        }
    }

    /// The CALL's action; nil for an event.
    var action: OCPPAction? {
        guard case .call(let row) = self else { return nil }
        return row.action
    }

    /// True when a string in the payload holds U+0000, which PostgreSQL text cannot
    /// hold: the `json` column would take it, but the worker could not apply it.
    var payloadHoldsNUL: Bool {
        switch self {
        case .call(let row): row.payloadHoldsNUL
        case .connected(let event), .disconnected(let event): event.detailsHoldNUL
        }
    }
}

/// A station's CALL, validated and answered (but not yet acknowledged).
struct StationCallRow: Sendable {
    var stationID: Int64
    /// The gateway's clock when the frame arrived.
    var receivedAt: Date
    var action: OCPPAction
    /// The OCPP unique id, which the CALLRESULT echoes.
    var messageID: String
    /// The typed request written back as compact JSON in its canonical form
    /// (date-times in UTC, tolerated quirks normalized), which is what the worker
    /// reads. Serialized once, for both the row and the digest, and bound as these
    /// UTF-8 bytes: no `String` is made of them.
    var payloadJSON: [UInt8]
    /// SHA-256 of ``payloadJSON``, for the transaction-related actions only: with the
    /// station and the action, the content key that makes a retry of one of them,
    /// whatever its unique id, the same journal row (invariant 3). Every other CALL
    /// has none and is journaled and answered afresh.
    var payloadDigest: [UInt8]?
    var payloadHoldsNUL: Bool
    /// The answer, encoded once: these bytes are journaled and sent.
    var response: EncodedResponse
    /// The station's own timestamp of the message, where it has one.
    var stationTime: Date?

    /// - Parameter payload: the request as compact JSON from ``JSONWriter``.
    init(
        stationID: Int64, receivedAt: Date, action: OCPPAction, messageID: String, payload: [UInt8],
        response: EncodedResponse, stationTime: Date? = nil
    ) {
        self.stationID = stationID
        self.receivedAt = receivedAt
        self.action = action
        self.messageID = messageID
        self.payloadJSON = payload
        self.payloadDigest = action.isTransactionRelated ? Array(SHA256.hash(data: payload)) : nil
        self.payloadHoldsNUL = holdsNULEscape(payload)
        self.response = response
        self.stationTime = stationTime
    }

    /// The row of `request`, with the answer and station time the call handler
    /// prepared for it.
    init(
        request: StationRequest, stationID: Int64, receivedAt: Date, messageID: String, prepared: PreparedCall
    ) {
        self.init(
            stationID: stationID, receivedAt: receivedAt, action: request.action, messageID: messageID,
            payload: request.jsonBytes, response: prepared.response, stationTime: prepared.stationTime)
    }
}

/// A connect or disconnect of a station's session, with its details.
struct SessionEvent: Sendable {
    var stationID: Int64
    var receivedAt: Date
    /// The details as compact JSON; nil stores no payload.
    var detailsJSON: String?
    var detailsHoldNUL = false

    init(stationID: Int64, receivedAt: Date, details: JSONObject? = nil) {
        self.stationID = stationID
        self.receivedAt = receivedAt
        guard let details else { return }
        var writer = JSONWriter()
        writer.value(.object(details))
        detailsJSON = writer.string
        detailsHoldNUL = holdsNULEscape(writer.bytes)
    }
}

/// A CALLRESULT payload as compact JSON, encoded once by the gateway: the bytes the
/// receipt and the journal row are written with are the bytes sent.
///
/// StartTransaction.conf needs a transaction id that only the batch statement knows
/// (it allocates one per content key from `ocpp.transaction_starts`, invariant 4, or
/// finds the one allocated before). Its payload is therefore encoded around the id:
/// the statement stores `head || id || tail` and returns the id, and the writer
/// sends `head + id + tail`. Both sides write the id in plain decimal, so the two
/// concatenations are the same bytes; no JSON is parsed or re-encoded on either side.
enum EncodedResponse: Sendable, Hashable {
    /// The whole payload.
    case complete([UInt8])
    /// StartTransaction.conf without the value of `transactionId`, which the batch
    /// statement allocates for `key`.
    case transactionStart(TransactionStartKey, head: [UInt8], tail: [UInt8])

    /// StartTransaction.conf for `key`: the members of ``StartTransactionResponse``,
    /// in its order (`idTagInfo`, then `transactionId`), with the id's value left for
    /// the statement. A unit test checks that the completed bytes equal the typed
    /// response's, so the two cannot drift apart.
    static func transactionStart(idTagInfo: IdTagInfo, key: TransactionStartKey) -> EncodedResponse {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("idTagInfo", idTagInfo)
        writer.key("transactionId")
        return .transactionStart(key, head: writer.bytes, tail: Array("}".utf8))
    }

    /// The content key of a StartTransaction; nil for every other answer.
    var transactionStart: TransactionStartKey? {
        guard case .transactionStart(let key, _, _) = self else { return nil }
        return key
    }

    /// The payload, with `transactionID` in its place for a StartTransaction (nil
    /// when it has none).
    func payload(transactionID: Int32?) -> [UInt8]? {
        switch self {
        case .complete(let bytes):
            return bytes
        case .transactionStart(_, let head, let tail):
            guard let transactionID else { return nil }
            return head + Array(String(transactionID).utf8) + tail
        }
    }
}

/// What makes two StartTransaction.req the same start, whatever their unique ids.
struct TransactionStartKey: Sendable, Hashable {
    /// 32 bits, as the column: the decoder has checked the range.
    var connectorID: Int32
    var idTag: String
    var startedAt: Date
    var meterStart: Int
}

/// The result of making one work item durable.
struct IngestOutcome: Sendable, Equatable {
    /// What to send for a CALL: the whole CALLRESULT frame, `[3,"<unique id>",
    /// <payload>]`, around the payload bytes the row was written with, or, for a
    /// retransmission of a transaction-related message, around the answer stored the
    /// first time. Nil for a connect or disconnect event, which is not answered.
    var callResult: [UInt8]?
    /// True when a transaction-related CALL had been received before (same station,
    /// action and payload) and so caused no second effect.
    var isDuplicate: Bool
}

/// Whether compact JSON from ``JSONWriter`` has a `\u0000` escape, the only way it
/// writes U+0000 (a backslash itself is written `\\`, so escapes are read in pairs
/// from each backslash on).
func holdsNULEscape(_ json: [UInt8]) -> Bool {
    let backslash = UInt8(ascii: "\\")
    guard var index = json.firstIndex(of: backslash) else { return false }
    let nul = Array("u0000".utf8)
    while index < json.count - 1 {
        if json[index] == backslash {
            if json[index + 1] == UInt8(ascii: "u"), json[(index + 1)...].starts(with: nul) { return true }
            index += 2
        } else {
            index += 1
        }
    }
    return false
}
