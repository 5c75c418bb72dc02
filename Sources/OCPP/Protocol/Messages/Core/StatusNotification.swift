import Foundation

/// StatusNotification, charge point → central system (Core).
///
/// Reports a change of status of one connector, or with `connectorId` 0 of the
/// charge point itself, or an error. `errorCode` is `NoError` unless the status is
/// `Faulted` or a problem is reported alongside another status.
public struct StatusNotificationRequest: OCPPRequest {
    public typealias Response = StatusNotificationResponse
    public static let action = OCPPAction.statusNotification

    /// 0 for the charge point itself.
    public var connectorId: Int
    public var errorCode: ChargePointErrorCode
    /// CiString50. Free-form detail about the error.
    public var info: String?
    public var status: ChargePointStatus
    /// When the status was reported; absent means when it was received.
    public var timestamp: Date?
    /// CiString50.
    public var vendorErrorCode: String?
    /// CiString255.
    public var vendorId: String?

    public init(
        connectorId: Int, errorCode: ChargePointErrorCode, status: ChargePointStatus, info: String? = nil,
        timestamp: Date? = nil, vendorId: String? = nil, vendorErrorCode: String? = nil
    ) {
        self.connectorId = connectorId
        self.errorCode = errorCode
        self.status = status
        self.info = info
        self.timestamp = timestamp
        self.vendorId = vendorId
        self.vendorErrorCode = vendorErrorCode
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        connectorId = try reader.required("connectorId", in: .connectorID)
        errorCode = try reader.required("errorCode")
        info = try reader.optional("info", maxLength: 50)
        status = try reader.required("status")
        timestamp = try reader.optional("timestamp")
        vendorId = try reader.optional("vendorId", maxLength: 255)
        vendorErrorCode = try reader.optional("vendorErrorCode", maxLength: 50)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("connectorId", connectorId)
        writer.field("errorCode", errorCode)
        writer.field("info", info)
        writer.field("status", status)
        writer.field("timestamp", timestamp)
        writer.field("vendorId", vendorId)
        writer.field("vendorErrorCode", vendorErrorCode)
    }
}

/// StatusNotification.conf: an empty acknowledgement.
public struct StatusNotificationResponse: OCPPResponse {
    public init() {}

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {}

    public func encodeFields(to writer: inout JSONWriter) {}
}

public enum ChargePointErrorCode: String, OCPPEnum {
    case connectorLockFailure = "ConnectorLockFailure"
    case evCommunicationError = "EVCommunicationError"
    case groundFailure = "GroundFailure"
    case highTemperature = "HighTemperature"
    case internalError = "InternalError"
    case localListConflict = "LocalListConflict"
    case noError = "NoError"
    case otherError = "OtherError"
    case overCurrentFailure = "OverCurrentFailure"
    case powerMeterFailure = "PowerMeterFailure"
    case powerSwitchFailure = "PowerSwitchFailure"
    case readerFailure = "ReaderFailure"
    case resetFailure = "ResetFailure"
    case underVoltage = "UnderVoltage"
    case overVoltage = "OverVoltage"
    case weakSignal = "WeakSignal"
}

public enum ChargePointStatus: String, OCPPEnum {
    case available = "Available"
    case preparing = "Preparing"
    case charging = "Charging"
    case suspendedEVSE = "SuspendedEVSE"
    case suspendedEV = "SuspendedEV"
    case finishing = "Finishing"
    case reserved = "Reserved"
    case unavailable = "Unavailable"
    case faulted = "Faulted"
}
