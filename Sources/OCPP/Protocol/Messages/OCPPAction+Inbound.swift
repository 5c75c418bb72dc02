/// The two parties of OCPP 1.6.
public enum OCPPRole: Sendable, Hashable {
    case centralSystem
    case chargePoint

    /// The direction of a CALL this role receives.
    var inboundDirection: MessageDirections {
        switch self {
        case .centralSystem: .chargePointToCentralSystem
        case .chargePoint: .centralSystemToChargePoint
        }
    }
}

extension OCPPAction {
    /// Resolves the action name of a received CALL.
    ///
    /// An unknown name is `NotImplemented`. A known action that this role never
    /// receives (a charge point sending `Reset`, say) is `NotSupported`: the action is
    /// recognised, but this side does not accept it in that direction.
    public static func resolveInbound(_ name: String, receivedBy role: OCPPRole) throws(ValidationError) -> OCPPAction {
        guard let action = OCPPAction(rawValue: name) else {
            throw ValidationError(.notImplemented, "unknown action")
        }
        guard action.directions.contains(role.inboundDirection) else {
            throw ValidationError(.notSupported, "\(name) is not accepted in this direction")
        }
        return action
    }
}

extension Call {
    /// Resolves the action and validates the payload, as `role` receives this CALL.
    public func decodeRequest(
        receivedBy role: OCPPRole, options: DecodingOptions = .strict
    )
        throws(ValidationError) -> any OCPPRequest
    {
        let resolved = try OCPPAction.resolveInbound(action, receivedBy: role)
        return try resolved.decodeRequest(.object(payload), options: options)
    }
}
