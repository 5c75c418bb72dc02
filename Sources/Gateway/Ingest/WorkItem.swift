import Crypto
import Foundation
import OCPP
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
    /// The payload as compact JSON text: for a CALL the typed request written back
    /// in its canonical form (date-times in UTC, tolerated quirks normalized), which
    /// is what the worker reads; for connect/disconnect the event's details.
    /// Serialized once, for both the row and the digest.
    var payloadJSON: String?
    /// SHA-256 of ``payloadJSON``, for the transaction-related actions only: with the
    /// station and the action, the content key that makes a retry of one of them,
    /// whatever its unique id, the same journal row (invariant 3). Every other CALL
    /// has none and is journaled and answered afresh.
    var payloadDigest: [UInt8]?
    /// True when a string in the payload holds U+0000, which PostgreSQL text cannot
    /// hold: the `json` column would take it, but the worker could not apply it.
    var payloadHoldsNUL = false
    /// The CALLRESULT payload prepared by the gateway. For StartTransaction the
    /// writer sets `transactionId` from the database.
    var response: JSONObject?
    /// The station's own timestamp of the message, where it has one.
    var stationTime: Date?
    /// The content key of a StartTransaction, whose transaction id comes from the
    /// database sequence in the batch statement.
    var transactionStart: TransactionStartKey?

    /// A connect or disconnect event, with its details.
    init(kind: Kind, stationID: Int64, receivedAt: Date, payload: JSONObject? = nil) {
        self.kind = kind
        self.stationID = stationID
        self.receivedAt = receivedAt
        guard let payload else { return }
        var writer = JSONWriter()
        writer.value(.object(payload))
        setPayload(writer.bytes, keyedByContent: false)
    }

    /// A station's CALL, validated and answered (but not yet acknowledged).
    init(
        call request: any OCPPRequest, stationID: Int64, receivedAt: Date, messageID: String,
        response: JSONObject?, stationTime: Date? = nil, transactionStart: TransactionStartKey? = nil
    ) {
        let action = type(of: request).action
        self.kind = .call
        self.stationID = stationID
        self.receivedAt = receivedAt
        self.action = action.rawValue
        self.messageID = messageID
        self.response = response
        self.stationTime = stationTime
        self.transactionStart = transactionStart
        setPayload(request.jsonBytes, keyedByContent: action.isTransactionRelated)
    }

    private mutating func setPayload(_ json: [UInt8], keyedByContent: Bool) {
        payloadJSON = String(decoding: json, as: UTF8.self)
        payloadHoldsNUL = Self.holdsNULEscape(json)
        if keyedByContent { payloadDigest = Array(SHA256.hash(data: json)) }
    }

    /// Whether compact JSON from ``JSONWriter`` has a `\u0000` escape, the only way
    /// it writes U+0000 (a backslash itself is written `\\`, so escapes are read in
    /// pairs from each backslash on).
    static func holdsNULEscape(_ json: [UInt8]) -> Bool {
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
    /// The CALLRESULT payload to send: the prepared one (with the transaction id
    /// filled in), or, for a retransmission of a transaction-related message, the
    /// answer given the first time.
    var response: JSONObject?
    /// True when a transaction-related CALL had been received before (same station,
    /// action and payload) and so caused no second effect.
    var isDuplicate: Bool
}
