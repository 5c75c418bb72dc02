/// The message type numbers of OCPP-J 1.6 (section 4.1.3).
public enum MessageTypeID: Int64, Sendable, Hashable {
    case call = 2
    case callResult = 3
    case callError = 4
}

/// One OCPP-J message: the closed set of frames either side may send.
public enum OCPPFrame: Sendable, Hashable {
    /// `[2, uniqueId, action, payload]`: a request.
    case call(Call)
    /// `[3, uniqueId, payload]`: the answer to a CALL.
    case callResult(CallResult)
    /// `[4, uniqueId, errorCode, errorDescription, errorDetails]`: a CALL that failed.
    case callError(CallError)

    /// The unique id the frame carries.
    public var messageID: String {
        switch self {
        case .call(let call): call.messageID
        case .callResult(let result): result.messageID
        case .callError(let error): error.messageID
        }
    }

    /// The most characters a unique id may have (OCPP-J 1.6, section 4.1.4).
    public static let maximumMessageIDLength = 36
}

public struct Call: Sendable, Hashable {
    public var messageID: String
    /// The action name as sent; resolve it with ``OCPPAction/resolveInbound(_:receivedBy:)``.
    public var action: String
    public var payload: JSONObject

    public init(messageID: String, action: String, payload: JSONObject) {
        self.messageID = messageID
        self.action = action
        self.payload = payload
    }

    /// A CALL carrying a typed request.
    public init<Request: OCPPRequest>(messageID: String, request: Request) {
        // Requests the central system builds itself; an OCPP object always encodes
        // as an object and parses back.
        guard case .object(let payload)? = try? request.jsonValue else {
            preconditionFailure("a request always encodes as an object")
        }
        self.init(messageID: messageID, action: Request.action.rawValue, payload: payload)
    }
}

public struct CallResult: Sendable, Hashable {
    public var messageID: String
    public var payload: JSONObject

    public init(messageID: String, payload: JSONObject) {
        self.messageID = messageID
        self.payload = payload
    }
}

public struct CallError: Sendable, Hashable {
    public var messageID: String
    public var errorCode: OCPPErrorCode
    public var errorDescription: String
    public var errorDetails: JSONObject

    public init(
        messageID: String, errorCode: OCPPErrorCode, errorDescription: String = "",
        errorDetails: JSONObject = JSONObject()
    ) {
        self.messageID = messageID
        self.errorCode = errorCode
        self.errorDescription = errorDescription
        self.errorDetails = errorDetails
    }

    /// The CALLERROR answering a CALL whose payload failed validation. The
    /// description names the field and the reason, never the value.
    public init(messageID: String, validationError: ValidationError) {
        var details = JSONObject()
        if !validationError.path.isRoot {
            details.members.append((key: "field", value: .string(validationError.path.description)))
        }
        self.init(
            messageID: messageID, errorCode: validationError.code,
            errorDescription: validationError.description, errorDetails: details)
    }
}
