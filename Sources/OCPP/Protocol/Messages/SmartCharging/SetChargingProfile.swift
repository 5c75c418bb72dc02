/// SetChargingProfile, central system → charge point (SmartCharging).
///
/// Installs a charging profile on a connector, or with connector 0 on the charge
/// point as a whole. A profile with the same `chargingProfileId`, or with the same
/// `stackLevel` and purpose, replaces the one installed.
public struct SetChargingProfileRequest: OCPPRequest {
    public typealias Response = SetChargingProfileResponse
    public static let action = OCPPAction.setChargingProfile

    public var connectorId: Int
    public var csChargingProfiles: ChargingProfile

    public init(connectorId: Int, csChargingProfiles: ChargingProfile) {
        self.connectorId = connectorId
        self.csChargingProfiles = csChargingProfiles
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        connectorId = try reader.required("connectorId")
        csChargingProfiles = try reader.required("csChargingProfiles")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("connectorId", connectorId)
        writer.field("csChargingProfiles", csChargingProfiles)
    }
}

/// SetChargingProfile.conf: whether the profile was installed.
public struct SetChargingProfileResponse: OCPPResponse {
    public var status: ChargingProfileStatus

    public init(status: ChargingProfileStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

public enum ChargingProfileStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
    case notSupported = "NotSupported"
}
