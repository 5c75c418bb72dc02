/// A Central-System-initiated CALL, validated against its action's schema before it
/// is queued: what reaches `ocpp.station_messages` from Swift is a payload the
/// station can accept.
public struct OutboundCommand: Sendable {
    public let action: OCPPAction
    public let payload: JSONObject

    /// Checks that `action` is a command a central system sends and that `payload`
    /// is a valid request of it.
    public init(action name: String, payload: JSONObject) throws(OutboundCommandError) {
        guard let action = OCPPAction(rawValue: name) else { throw .unknownAction(name) }
        guard action.directions.contains(.centralSystemToChargePoint) else { throw .notACommand(action) }
        do {
            _ = try action.decodeRequest(.object(payload))
        } catch {
            throw .invalidPayload(error)
        }
        self.action = action
        self.payload = payload
    }

    /// A command from a typed request.
    public init<Request: OCPPRequest>(_ request: Request) throws(OutboundCommandError) {
        guard case .object(let payload)? = try? request.jsonValue else {
            preconditionFailure("a request encodes as a JSON object")
        }
        try self.init(action: Request.action.rawValue, payload: payload)
    }
}

/// Why a command was refused at enqueue.
public enum OutboundCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownAction(String)
    /// A CALL only charge points send (BootNotification, say).
    case notACommand(OCPPAction)
    /// The payload breaks the action's schema: the field path and the reason.
    case invalidPayload(ValidationError)

    public var description: String {
        switch self {
        case .unknownAction(let name): "\(name) is not an OCPP 1.6 action"
        case .notACommand(let action): "\(action.rawValue) is sent by charge points, not by a central system"
        case .invalidPayload(let error): "invalid payload: \(error)"
        }
    }
}
