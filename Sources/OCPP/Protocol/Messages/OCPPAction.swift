/// The OCPP 1.6 feature profiles, plus the messages of the security whitepaper
/// ("Improved security for OCPP 1.6-J"), which this project treats as one more profile.
public enum FeatureProfile: String, Sendable, Hashable, CaseIterable {
    case core = "Core"
    case firmwareManagement = "FirmwareManagement"
    case localAuthListManagement = "LocalAuthListManagement"
    case reservation = "Reservation"
    case smartCharging = "SmartCharging"
    case remoteTrigger = "RemoteTrigger"
    case security = "Security"
}

/// Which side may send a CALL for an action.
public struct MessageDirections: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Sent by the charge point, answered by the central system.
    public static let chargePointToCentralSystem = MessageDirections(rawValue: 1 << 0)
    /// Sent by the central system, answered by the charge point.
    public static let centralSystemToChargePoint = MessageDirections(rawValue: 1 << 1)
    public static let both: MessageDirections = [.chargePointToCentralSystem, .centralSystemToChargePoint]
}

/// Every action of OCPP 1.6 and of the 1.6 security whitepaper: the one list the
/// gateway, the worker and the operator API route from.
public enum OCPPAction: String, Sendable, Hashable, CaseIterable {
    // Core
    case authorize = "Authorize"
    case bootNotification = "BootNotification"
    case changeAvailability = "ChangeAvailability"
    case changeConfiguration = "ChangeConfiguration"
    case clearCache = "ClearCache"
    case dataTransfer = "DataTransfer"
    case getConfiguration = "GetConfiguration"
    case heartbeat = "Heartbeat"
    case meterValues = "MeterValues"
    case remoteStartTransaction = "RemoteStartTransaction"
    case remoteStopTransaction = "RemoteStopTransaction"
    case reset = "Reset"
    case startTransaction = "StartTransaction"
    case statusNotification = "StatusNotification"
    case stopTransaction = "StopTransaction"
    case unlockConnector = "UnlockConnector"
    // FirmwareManagement
    case diagnosticsStatusNotification = "DiagnosticsStatusNotification"
    case firmwareStatusNotification = "FirmwareStatusNotification"
    case getDiagnostics = "GetDiagnostics"
    case updateFirmware = "UpdateFirmware"
    // LocalAuthListManagement
    case getLocalListVersion = "GetLocalListVersion"
    case sendLocalList = "SendLocalList"
    // Reservation
    case cancelReservation = "CancelReservation"
    case reserveNow = "ReserveNow"
    // SmartCharging
    case clearChargingProfile = "ClearChargingProfile"
    case getCompositeSchedule = "GetCompositeSchedule"
    case setChargingProfile = "SetChargingProfile"
    // RemoteTrigger
    case triggerMessage = "TriggerMessage"
    // Security whitepaper
    case certificateSigned = "CertificateSigned"
    case deleteCertificate = "DeleteCertificate"
    case extendedTriggerMessage = "ExtendedTriggerMessage"
    case getInstalledCertificateIds = "GetInstalledCertificateIds"
    case getLog = "GetLog"
    case installCertificate = "InstallCertificate"
    case logStatusNotification = "LogStatusNotification"
    case securityEventNotification = "SecurityEventNotification"
    case signCertificate = "SignCertificate"
    case signedFirmwareStatusNotification = "SignedFirmwareStatusNotification"
    case signedUpdateFirmware = "SignedUpdateFirmware"

    public var profile: FeatureProfile {
        switch self {
        case .authorize, .bootNotification, .changeAvailability, .changeConfiguration, .clearCache,
            .dataTransfer, .getConfiguration, .heartbeat, .meterValues, .remoteStartTransaction,
            .remoteStopTransaction, .reset, .startTransaction, .statusNotification, .stopTransaction,
            .unlockConnector:
            .core
        case .diagnosticsStatusNotification, .firmwareStatusNotification, .getDiagnostics, .updateFirmware:
            .firmwareManagement
        case .getLocalListVersion, .sendLocalList:
            .localAuthListManagement
        case .cancelReservation, .reserveNow:
            .reservation
        case .clearChargingProfile, .getCompositeSchedule, .setChargingProfile:
            .smartCharging
        case .triggerMessage:
            .remoteTrigger
        case .certificateSigned, .deleteCertificate, .extendedTriggerMessage, .getInstalledCertificateIds,
            .getLog, .installCertificate, .logStatusNotification, .securityEventNotification,
            .signCertificate, .signedFirmwareStatusNotification, .signedUpdateFirmware:
            .security
        }
    }

    /// StartTransaction, StopTransaction and MeterValues: the messages a charger
    /// queues while offline and retries until answered (OCPP 1.6 section 3.7), some
    /// stacks with a new unique id for every retry. The central system recognises a
    /// retry of these by content; every other action is answered afresh each time.
    public var isTransactionRelated: Bool {
        switch self {
        case .startTransaction, .stopTransaction, .meterValues: true
        default: false
        }
    }

    /// Who sends the CALL for this action.
    public var directions: MessageDirections {
        switch self {
        case .dataTransfer:
            .both
        case .authorize, .bootNotification, .heartbeat, .meterValues, .startTransaction,
            .statusNotification, .stopTransaction, .diagnosticsStatusNotification,
            .firmwareStatusNotification, .logStatusNotification, .securityEventNotification,
            .signCertificate, .signedFirmwareStatusNotification:
            .chargePointToCentralSystem
        default:
            .centralSystemToChargePoint
        }
    }

    /// The request type of this action; its `Response` is the response type.
    public var requestType: any OCPPRequest.Type {
        guard let type = Self.requestTypes[self] else {
            preconditionFailure("no request type registered for \(rawValue)")
        }
        return type
    }

    private static let requestTypes: [OCPPAction: any OCPPRequest.Type] = {
        var types: [OCPPAction: any OCPPRequest.Type] = [:]
        let all =
            CoreProfile.requestTypes + FirmwareManagementProfile.requestTypes
            + LocalAuthListManagementProfile.requestTypes + ReservationProfile.requestTypes
            + SmartChargingProfile.requestTypes + RemoteTriggerProfile.requestTypes
            + SecurityProfile.requestTypes
        for type in all {
            precondition(types[type.action] == nil, "two request types for \(type.action.rawValue)")
            types[type.action] = type
        }
        return types
    }()
}
