/// Reads the fields of one JSON object, applying the schema's constraints and
/// turning every failure into the OCPP error code the specification assigns:
/// a missing required field is `OccurenceConstraintViolation`, a wrong JSON type is
/// `TypeConstraintViolation`, a value outside its length, enumeration, range or
/// format is `PropertyConstraintViolation`, and a member the schema does not define
/// is `FormationViolation` (unless decoding is lenient).
public struct JSONObjectReader {
    private let object: JSONObject
    public let options: DecodingOptions
    /// Which members (by position) the decoder asked for; OCPP objects have far
    /// fewer than 64 members, and any member past the 64th counts as unknown.
    private var consumedMask: UInt64 = 0

    init(_ object: JSONObject, options: DecodingOptions) {
        self.object = object
        self.options = options
    }

    // MARK: Any decodable field

    public mutating func required<T: JSONFieldDecodable>(
        _ key: String, as type: T.Type = T.self
    )
        throws(ValidationError) -> T
    {
        guard let value = try optional(key, as: type) else { throw .missing(key) }
        return value
    }

    public mutating func optional<T: JSONFieldDecodable>(
        _ key: String, as type: T.Type = T.self
    )
        throws(ValidationError) -> T?
    {
        guard let value = lookup(key) else { return nil }
        do {
            return try T.decode(from: value, options: options)
        } catch {
            throw error.prepending(.key(key))
        }
    }

    // MARK: Strings with a length limit (CiString20, CiString25 ... and other maxLength)

    public mutating func required(_ key: String, maxLength: Int) throws(ValidationError) -> String {
        guard let value = try optional(key, maxLength: maxLength) else { throw .missing(key) }
        return value
    }

    public mutating func optional(_ key: String, maxLength: Int) throws(ValidationError) -> String? {
        guard let value: String = try optional(key) else { return nil }
        try Self.checkLength(value, maxLength: maxLength, at: FieldPath([.key(key)]))
        return value
    }

    /// An array of strings, each at most `elementMaxLength` characters.
    public mutating func optional(_ key: String, elementMaxLength: Int) throws(ValidationError) -> [String]? {
        guard let values: [String] = try optional(key) else { return nil }
        for (index, value) in values.enumerated() {
            try Self.checkLength(value, maxLength: elementMaxLength, at: FieldPath([.key(key), .index(index)]))
        }
        return values
    }

    public mutating func required(_ key: String, elementMaxLength: Int) throws(ValidationError) -> [String] {
        guard let values = try optional(key, elementMaxLength: elementMaxLength) else { throw .missing(key) }
        return values
    }

    // MARK: Decimals with a step (`multipleOf` in the schemas)

    public mutating func required(_ key: String, multipleOf step: Double) throws(ValidationError) -> Double {
        guard let value = try optional(key, multipleOf: step) else { throw .missing(key) }
        return value
    }

    public mutating func optional(_ key: String, multipleOf step: Double) throws(ValidationError) -> Double? {
        guard let value: Double = try optional(key) else { return nil }
        let steps = value / step
        guard abs(steps - steps.rounded()) < 1e-6 else {
            throw ValidationError(
                .propertyConstraintViolation, "must be a multiple of \(step)", at: FieldPath([.key(key)]))
        }
        return value
    }

    // MARK: Arrays with a size limit

    public mutating func required<T: JSONFieldDecodable>(
        _ key: String, minItems: Int = 0, maxItems: Int = .max
    )
        throws(ValidationError) -> [T]
    {
        guard let values: [T] = try optional(key, minItems: minItems, maxItems: maxItems) else {
            throw .missing(key)
        }
        return values
    }

    public mutating func optional<T: JSONFieldDecodable>(
        _ key: String, minItems: Int = 0, maxItems: Int = .max
    )
        throws(ValidationError) -> [T]?
    {
        guard let values: [T] = try optional(key) else { return nil }
        guard values.count >= minItems else {
            throw ValidationError(
                .occurenceConstraintViolation, "needs at least \(minItems) item(s)", at: FieldPath([.key(key)]))
        }
        guard values.count <= maxItems else {
            throw ValidationError(
                .occurenceConstraintViolation, "allows at most \(maxItems) item(s)", at: FieldPath([.key(key)]))
        }
        return values
    }

    // MARK: Internals

    /// Finds a member and counts it as known. In lenient mode a `null` reads as absent.
    private mutating func lookup(_ key: String) -> JSONValue? {
        for (position, member) in object.members.enumerated() where member.key == key {
            if position < 64 { consumedMask |= 1 << UInt64(position) }
            if options.lenient, case .null = member.value { return nil }
            return member.value
        }
        return nil
    }

    /// Refuses members the decoder never asked for, unless decoding is lenient.
    mutating func finish() throws(ValidationError) {
        guard !options.lenient else { return }
        for (position, member) in object.members.enumerated()
        where position >= 64 || consumedMask & (1 << UInt64(position)) == 0 {
            throw ValidationError(
                .formationViolation, "field is not defined by the schema", at: FieldPath([.key(member.key)]))
        }
    }

    static func checkLength(_ value: String, maxLength: Int, at path: FieldPath) throws(ValidationError) {
        // JSON Schema's maxLength counts code points; the UTF-8 length is an upper bound
        // and cheap, so code points are only counted when it is over the limit.
        guard value.utf8.count > maxLength, value.unicodeScalars.count > maxLength else { return }
        throw ValidationError(.propertyConstraintViolation, "longer than \(maxLength) characters", at: path)
    }
}
