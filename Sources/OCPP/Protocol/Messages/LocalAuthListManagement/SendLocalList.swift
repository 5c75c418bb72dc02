/// SendLocalList, central system → charge point (LocalAuthListManagement).
///
/// Installs the local authorization list: a `Full` update replaces the whole list, a
/// `Differential` one adds, changes or removes the entries given. The charge point
/// stores `listVersion` once the update has succeeded.
public struct SendLocalListRequest: OCPPRequest {
    public typealias Response = SendLocalListResponse
    public static let action = OCPPAction.sendLocalList

    public var listVersion: Int
    /// In a `Full` update the whole new list (absent or empty clears it), in a
    /// `Differential` update the changes.
    public var localAuthorizationList: [AuthorizationData]?
    public var updateType: UpdateType

    public init(listVersion: Int, updateType: UpdateType, localAuthorizationList: [AuthorizationData]? = nil) {
        self.listVersion = listVersion
        self.updateType = updateType
        self.localAuthorizationList = localAuthorizationList
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        listVersion = try reader.required("listVersion")
        localAuthorizationList = try reader.optional("localAuthorizationList")
        updateType = try reader.required("updateType")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("listVersion", listVersion)
        writer.field("localAuthorizationList", localAuthorizationList)
        writer.field("updateType", updateType)
    }
}

/// SendLocalList.conf: whether the charge point applied the update.
public struct SendLocalListResponse: OCPPResponse {
    public var status: UpdateStatus

    public init(status: UpdateStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

public enum UpdateType: String, OCPPEnum {
    case differential = "Differential"
    case full = "Full"
}

public enum UpdateStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case failed = "Failed"
    case notSupported = "NotSupported"
    case versionMismatch = "VersionMismatch"
}
