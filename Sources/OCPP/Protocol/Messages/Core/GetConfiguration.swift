/// GetConfiguration, central system → charge point (Core).
///
/// Asks for the values of the listed configuration keys, or of every key when `key`
/// is absent. Keys the charge point does not know come back in `unknownKey`.
public struct GetConfigurationRequest: OCPPRequest {
    public typealias Response = GetConfigurationResponse
    public static let action = OCPPAction.getConfiguration

    /// Each a CiString50.
    public var key: [String]?

    public init(key: [String]? = nil) {
        self.key = key
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        key = try reader.optional("key", elementMaxLength: 50)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("key", key)
    }
}

/// GetConfiguration.conf: the requested keys that are known, with their values, and
/// the requested keys that are not.
public struct GetConfigurationResponse: OCPPResponse {
    public var configurationKey: [KeyValue]?
    /// Each a CiString50.
    public var unknownKey: [String]?

    public init(configurationKey: [KeyValue]? = nil, unknownKey: [String]? = nil) {
        self.configurationKey = configurationKey
        self.unknownKey = unknownKey
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        configurationKey = try reader.optional("configurationKey")
        unknownKey = try reader.optional("unknownKey", elementMaxLength: 50)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("configurationKey", configurationKey)
        writer.field("unknownKey", unknownKey)
    }
}

/// `KeyValue`: one configuration key of GetConfiguration.conf.
public struct KeyValue: JSONObjectCodable {
    /// CiString50.
    public var key: String
    /// Whether ChangeConfiguration can set this key.
    public var readonly: Bool
    /// CiString500. Absent when the key has no value set.
    public var value: String?

    public init(key: String, readonly: Bool, value: String? = nil) {
        self.key = key
        self.readonly = readonly
        self.value = value
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        key = try reader.required("key", maxLength: 50)
        readonly = try reader.required("readonly")
        value = try reader.optional("value", maxLength: 500)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("key", key)
        writer.field("readonly", readonly)
        writer.field("value", value)
    }
}
