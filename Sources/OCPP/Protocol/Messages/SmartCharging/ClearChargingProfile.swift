/// ClearChargingProfile, central system → charge point (SmartCharging).
///
/// Removes the charging profile with `id`, or else every profile matching all the
/// criteria given (`connectorId`, `chargingProfilePurpose`, `stackLevel`); without
/// any field it removes all profiles.
public struct ClearChargingProfileRequest: OCPPRequest {
    public typealias Response = ClearChargingProfileResponse
    public static let action = OCPPAction.clearChargingProfile

    public var chargingProfilePurpose: ChargingProfilePurpose?
    /// 0 for the profiles of the charge point as a whole.
    public var connectorId: Int?
    /// The `chargingProfileId` of the profile to remove.
    public var id: Int?
    public var stackLevel: Int?

    public init(
        id: Int? = nil, connectorId: Int? = nil, chargingProfilePurpose: ChargingProfilePurpose? = nil,
        stackLevel: Int? = nil
    ) {
        self.id = id
        self.connectorId = connectorId
        self.chargingProfilePurpose = chargingProfilePurpose
        self.stackLevel = stackLevel
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        id = try reader.optional("id")
        connectorId = try reader.optional("connectorId")
        chargingProfilePurpose = try reader.optional("chargingProfilePurpose")
        stackLevel = try reader.optional("stackLevel")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("id", id)
        writer.field("connectorId", connectorId)
        writer.field("chargingProfilePurpose", chargingProfilePurpose)
        writer.field("stackLevel", stackLevel)
    }
}

/// ClearChargingProfile.conf: `Unknown` when no profile matched.
public struct ClearChargingProfileResponse: OCPPResponse {
    public var status: ClearChargingProfileStatus

    public init(status: ClearChargingProfileStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

public enum ClearChargingProfileStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case unknown = "Unknown"
}
