/// The error codes of an OCPP-J 1.6 CALLERROR (OCPP-J 1.6, section 4.2.3).
///
/// The raw values are the wire spellings, including the specification's
/// `OccurenceConstraintViolation` with one "r".
public enum OCPPErrorCode: String, Sendable, Hashable, CaseIterable {
    /// The action is not known by the receiver.
    case notImplemented = "NotImplemented"
    /// The action is recognised but not supported by the receiver.
    case notSupported = "NotSupported"
    /// An internal error occurred and the receiver could not process the action.
    case internalError = "InternalError"
    /// The payload for the action is incomplete.
    case protocolError = "ProtocolError"
    /// A security issue occurred while processing the action.
    case securityError = "SecurityError"
    /// The payload is syntactically incorrect or does not conform to the PDU structure.
    case formationViolation = "FormationViolation"
    /// The payload is syntactically correct but a field holds an invalid value.
    case propertyConstraintViolation = "PropertyConstraintViolation"
    /// The payload is syntactically correct but a field violates occurrence constraints.
    case occurenceConstraintViolation = "OccurenceConstraintViolation"
    /// The payload is syntactically correct but a field violates data type constraints.
    case typeConstraintViolation = "TypeConstraintViolation"
    /// Any other error.
    case genericError = "GenericError"
}
