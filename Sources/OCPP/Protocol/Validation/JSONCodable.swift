/// A value that can be read from one JSON value of an OCPP payload, with the
/// schema's checks applied.
public protocol JSONFieldDecodable: Sendable {
    static func decode(from value: JSONValue, options: DecodingOptions) throws(ValidationError) -> Self
}

/// A value that can write itself as one JSON value.
public protocol JSONFieldEncodable: Sendable {
    func encode(to writer: inout JSONWriter)
}

public typealias JSONFieldCodable = JSONFieldDecodable & JSONFieldEncodable

/// A JSON object type of an OCPP schema: a message payload or a nested type such as
/// `IdTagInfo`. Conformers read their fields from a ``JSONObjectReader`` and write
/// them with ``JSONWriter/field(_:_:)``; refusing unknown members is done for them.
public protocol JSONObjectCodable: JSONFieldCodable, Hashable {
    init(from reader: inout JSONObjectReader) throws(ValidationError)
    func encodeFields(to writer: inout JSONWriter)
}

extension JSONObjectCodable {
    public static func decode(from value: JSONValue, options: DecodingOptions) throws(ValidationError) -> Self {
        guard case .object(let object) = value else {
            throw .wrongType(expected: "object", found: value)
        }
        var reader = JSONObjectReader(object, options: options)
        let decoded = try Self(from: &reader)
        try reader.finish()
        return decoded
    }

    public func encode(to writer: inout JSONWriter) {
        writer.beginObject()
        encodeFields(to: &writer)
        writer.endObject()
    }

    /// Reads a whole payload from a parsed JSON value.
    public init(json: JSONValue, options: DecodingOptions = .strict) throws(ValidationError) {
        self = try Self.decode(from: json, options: options)
    }

    /// This value as a parsed JSON tree. The writer only produces valid JSON, so
    /// parsing it back fails only past the parser's nesting limit, which no OCPP type
    /// reaches; it throws rather than trap all the same.
    public var jsonValue: JSONValue {
        get throws(JSONParseError) {
            var writer = JSONWriter()
            encode(to: &writer)
            return try JSONParser.parse(writer.bytes)
        }
    }

    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        encode(to: &writer)
        return writer.bytes
    }
}

extension JSONWriter {
    /// Writes one object member.
    public mutating func field(_ key: String, _ value: some JSONFieldEncodable) {
        self.key(key)
        value.encode(to: &self)
    }

    /// Writes one object member, or nothing when the value is absent.
    public mutating func field(_ key: String, _ value: (some JSONFieldEncodable)?) {
        guard let value else { return }
        field(key, value)
    }
}
