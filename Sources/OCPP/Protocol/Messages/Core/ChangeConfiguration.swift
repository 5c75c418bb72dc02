/// ChangeConfiguration, central system → charge point (Core).
///
/// Sets one configuration key to a new value, always sent as a string. The charge
/// point answers `NotSupported` for a key it does not know and `RebootRequired` when
/// the new value only takes effect after a reboot.
public struct ChangeConfigurationRequest: OCPPRequest {
    public typealias Response = ChangeConfigurationResponse
    public static let action = OCPPAction.changeConfiguration

    /// CiString50.
    public var key: String
    /// CiString500.
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        key = try reader.required("key", maxLength: 50)
        value = try reader.required("value", maxLength: 500)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("key", key)
        writer.field("value", value)
    }
}

/// ChangeConfiguration.conf: whether the new value was applied.
public struct ChangeConfigurationResponse: OCPPResponse {
    public var status: ConfigurationStatus

    public init(status: ConfigurationStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

public enum ConfigurationStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
    case rebootRequired = "RebootRequired"
    case notSupported = "NotSupported"
}
