/// Why a received text message is not a well-formed OCPP-J frame, and how to answer.
///
/// The answers (documented in `docs/PROTOCOL.md`):
/// - not JSON, not an array, an unknown message type number, a unique id that is not
///   a string of 1 to 36 characters, or elements of the wrong JSON type:
///   `FormationViolation`;
/// - a CALL with fewer than four elements: `ProtocolError` (the frame is incomplete);
/// - when no unique id can be read, the CALLERROR carries the id `"-1"`, the
///   convention OCPP-J 2.0.1 made explicit;
/// - a malformed CALLRESULT or CALLERROR is never answered (OCPP-J answers CALLs
///   only); it is logged and counted.
public struct FrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The id used when the frame's own id cannot be read.
    public static let unreadableMessageID = "-1"

    public var code: OCPPErrorCode
    public var reason: String
    /// The unique id as far as it could be read.
    public var messageID: String?
    /// The message type number as far as it could be read.
    public var messageType: Int64?

    public init(_ code: OCPPErrorCode, _ reason: String, messageID: String? = nil, messageType: Int64? = nil) {
        self.code = code
        self.reason = reason
        self.messageID = messageID
        self.messageType = messageType
    }

    /// The CALLERROR to send back, or `nil` when the broken frame was itself an answer.
    public var reply: CallError? {
        if messageType == MessageTypeID.callResult.rawValue || messageType == MessageTypeID.callError.rawValue {
            return nil
        }
        return CallError(
            messageID: messageID ?? Self.unreadableMessageID, errorCode: code, errorDescription: reason)
    }

    public var description: String { "\(code.rawValue): \(reason)" }
}
