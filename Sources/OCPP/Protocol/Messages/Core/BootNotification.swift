import Foundation

/// BootNotification, charge point → central system (Core).
///
/// Sent after every (re)boot, before anything else. Until the answer is `Accepted`
/// the charge point may send nothing but BootNotification again, after `interval`
/// seconds.
public struct BootNotificationRequest: OCPPRequest {
    public typealias Response = BootNotificationResponse
    public static let action = OCPPAction.bootNotification

    /// CiString25.
    public var chargeBoxSerialNumber: String?
    /// CiString20.
    public var chargePointModel: String
    /// CiString25.
    public var chargePointSerialNumber: String?
    /// CiString20.
    public var chargePointVendor: String
    /// CiString50.
    public var firmwareVersion: String?
    /// CiString20.
    public var iccid: String?
    /// CiString20.
    public var imsi: String?
    /// CiString25.
    public var meterSerialNumber: String?
    /// CiString25.
    public var meterType: String?

    public init(
        chargePointVendor: String, chargePointModel: String, chargePointSerialNumber: String? = nil,
        chargeBoxSerialNumber: String? = nil, firmwareVersion: String? = nil, iccid: String? = nil,
        imsi: String? = nil, meterType: String? = nil, meterSerialNumber: String? = nil
    ) {
        self.chargePointVendor = chargePointVendor
        self.chargePointModel = chargePointModel
        self.chargePointSerialNumber = chargePointSerialNumber
        self.chargeBoxSerialNumber = chargeBoxSerialNumber
        self.firmwareVersion = firmwareVersion
        self.iccid = iccid
        self.imsi = imsi
        self.meterType = meterType
        self.meterSerialNumber = meterSerialNumber
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        chargePointVendor = try reader.required("chargePointVendor", maxLength: 20)
        chargePointModel = try reader.required("chargePointModel", maxLength: 20)
        chargePointSerialNumber = try reader.optional("chargePointSerialNumber", maxLength: 25)
        chargeBoxSerialNumber = try reader.optional("chargeBoxSerialNumber", maxLength: 25)
        firmwareVersion = try reader.optional("firmwareVersion", maxLength: 50)
        iccid = try reader.optional("iccid", maxLength: 20)
        imsi = try reader.optional("imsi", maxLength: 20)
        meterType = try reader.optional("meterType", maxLength: 25)
        meterSerialNumber = try reader.optional("meterSerialNumber", maxLength: 25)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("chargePointVendor", chargePointVendor)
        writer.field("chargePointModel", chargePointModel)
        writer.field("chargePointSerialNumber", chargePointSerialNumber)
        writer.field("chargeBoxSerialNumber", chargeBoxSerialNumber)
        writer.field("firmwareVersion", firmwareVersion)
        writer.field("iccid", iccid)
        writer.field("imsi", imsi)
        writer.field("meterType", meterType)
        writer.field("meterSerialNumber", meterSerialNumber)
    }
}

/// BootNotification.conf: whether the charge point is registered, the central
/// system's clock, and the heartbeat interval (or, when not accepted, the retry
/// interval) in seconds.
public struct BootNotificationResponse: OCPPResponse {
    public var currentTime: Date
    public var interval: Int
    public var status: RegistrationStatus

    public init(currentTime: Date, interval: Int, status: RegistrationStatus) {
        self.currentTime = currentTime
        self.interval = interval
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        currentTime = try reader.required("currentTime")
        interval = try reader.required("interval")
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("currentTime", currentTime)
        writer.field("interval", interval)
        writer.field("status", status)
    }
}

public enum RegistrationStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case pending = "Pending"
    case rejected = "Rejected"
}
