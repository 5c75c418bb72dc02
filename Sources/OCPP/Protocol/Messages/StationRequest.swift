/// A CALL a central system receives: one case for each action a charge point sends
/// (OCPP 1.6 and the security whitepaper), carrying its typed, validated request.
///
/// The central system switches on this instead of casting an `any OCPPRequest`: a new
/// charge-point action is a new case, and every `switch` over it says where it is
/// missing.
public enum StationRequest: Sendable, Hashable {
    // Core
    case authorize(AuthorizeRequest)
    case bootNotification(BootNotificationRequest)
    case dataTransfer(DataTransferRequest)
    case heartbeat(HeartbeatRequest)
    case meterValues(MeterValuesRequest)
    case startTransaction(StartTransactionRequest)
    case statusNotification(StatusNotificationRequest)
    case stopTransaction(StopTransactionRequest)
    // FirmwareManagement
    case diagnosticsStatusNotification(DiagnosticsStatusNotificationRequest)
    case firmwareStatusNotification(FirmwareStatusNotificationRequest)
    // Security whitepaper
    case logStatusNotification(LogStatusNotificationRequest)
    case securityEventNotification(SecurityEventNotificationRequest)
    case signCertificate(SignCertificateRequest)
    case signedFirmwareStatusNotification(SignedFirmwareStatusNotificationRequest)

    /// Resolves the action of a CALL received by the central system and validates its
    /// payload.
    ///
    /// Throws what ``Call/decodeRequest(receivedBy:options:)`` throws for
    /// `.centralSystem`: `NotImplemented` for an unknown action, `NotSupported` for
    /// one a charge point never sends (a station sending `Reset`, say), and the
    /// validation error of a payload that breaks the action's schema.
    public init(_ call: Call, options: DecodingOptions = .strict) throws(ValidationError) {
        let action = try OCPPAction.resolveInbound(call.action, receivedBy: .centralSystem)
        var options = options
        options.schemaDraft = action.schemaDraft
        let payload = JSONValue.object(call.payload)
        func decode<Request: OCPPRequest>(_: Request.Type = Request.self) throws(ValidationError) -> Request {
            try Request.decode(from: payload, options: options)
        }
        switch action {
        case .authorize: self = .authorize(try decode())
        case .bootNotification: self = .bootNotification(try decode())
        case .dataTransfer: self = .dataTransfer(try decode())
        case .heartbeat: self = .heartbeat(try decode())
        case .meterValues: self = .meterValues(try decode())
        case .startTransaction: self = .startTransaction(try decode())
        case .statusNotification: self = .statusNotification(try decode())
        case .stopTransaction: self = .stopTransaction(try decode())
        case .diagnosticsStatusNotification: self = .diagnosticsStatusNotification(try decode())
        case .firmwareStatusNotification: self = .firmwareStatusNotification(try decode())
        case .logStatusNotification: self = .logStatusNotification(try decode())
        case .securityEventNotification: self = .securityEventNotification(try decode())
        case .signCertificate: self = .signCertificate(try decode())
        case .signedFirmwareStatusNotification: self = .signedFirmwareStatusNotification(try decode())
        case .changeAvailability, .changeConfiguration, .clearCache, .getConfiguration, .remoteStartTransaction,
            .remoteStopTransaction, .reset, .unlockConnector, .getDiagnostics, .updateFirmware,
            .getLocalListVersion, .sendLocalList, .cancelReservation, .reserveNow, .clearChargingProfile,
            .getCompositeSchedule, .setChargingProfile, .triggerMessage, .certificateSigned, .deleteCertificate,
            .extendedTriggerMessage, .getInstalledCertificateIds, .getLog, .installCertificate,
            .signedUpdateFirmware:
            // `resolveInbound` refuses these already; the same answer, should its
            // list of directions and this switch ever disagree.
            throw ValidationError(.notSupported, "\(action.rawValue) is not accepted in this direction")
        }
    }

    /// The action of this CALL.
    public var action: OCPPAction { type(of: request).action }

    /// The typed request, for what every action shares (its action, its JSON).
    public var request: any OCPPRequest {
        switch self {
        case .authorize(let request): request
        case .bootNotification(let request): request
        case .dataTransfer(let request): request
        case .heartbeat(let request): request
        case .meterValues(let request): request
        case .startTransaction(let request): request
        case .statusNotification(let request): request
        case .stopTransaction(let request): request
        case .diagnosticsStatusNotification(let request): request
        case .firmwareStatusNotification(let request): request
        case .logStatusNotification(let request): request
        case .securityEventNotification(let request): request
        case .signCertificate(let request): request
        case .signedFirmwareStatusNotification(let request): request
        }
    }

    /// The request written as canonical JSON (the project's writer: its field order,
    /// no insignificant whitespace), what is journaled.
    public var jsonBytes: [UInt8] { request.jsonBytes }
}
