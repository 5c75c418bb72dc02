/// Reads the fields of one JSON object, applying the schema's constraints and
/// turning every failure into the OCPP error code the specification assigns:
/// a missing required field is `OccurenceConstraintViolation`, a wrong JSON type is
/// `TypeConstraintViolation`, a value outside its length, enumeration, range or
/// format is `PropertyConstraintViolation`, and a member the schema does not define
/// is `FormationViolation` (unless decoding is tolerant).
///
/// In tolerant mode (``ValidationMode/tolerant``) it also accepts, and reports to
/// the options' quirk observer: `null` or an empty string for an optional field that
/// is not a string (read as absent), strings over their length limit up to
/// ``DecodingOptions/tolerantStringCap``, sampled-value enumerations outside their
/// lists (kept as sent) and unknown members (ignored).
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
        return try decode(value, at: key)
    }

    /// A member's value, found: an empty string for a field that is not a string is
    /// absent when tolerant; errors name the member.
    private func decode<T: JSONFieldDecodable>(_ value: JSONValue, at key: String) throws(ValidationError) -> T? {
        if options.isTolerant, T.self != String.self, case .string(let text) = value, text.isEmpty {
            options.noteTolerated(.emptyStringForOptional)
            return nil
        }
        do {
            return try T.decode(from: value, options: options)
        } catch {
            throw error.prepending(.key(key))
        }
    }

    // MARK: Integers with a range (those stored in 32-bit columns, and the spec's minimums)

    public mutating func required(_ key: String, in range: ClosedRange<Int>) throws(ValidationError) -> Int {
        guard let value = try optional(key, in: range) else { throw .missing(key) }
        return value
    }

    public mutating func optional(_ key: String, in range: ClosedRange<Int>) throws(ValidationError) -> Int? {
        guard let value: Int = try optional(key) else { return nil }
        guard range.contains(value) else {
            throw ValidationError(
                .propertyConstraintViolation, "must be between \(range.lowerBound) and \(range.upperBound)",
                at: FieldPath([.key(key)]))
        }
        return value
    }

    // MARK: Enumerations kept as sent when tolerant

    /// An optional enumeration whose values outside the list tolerant decoding keeps
    /// as sent, in `unrecognized[key]` (the typed value is then nil); strict decoding
    /// refuses them as usual.
    public mutating func optional<E: OCPPEnum>(
        _ key: String, keepingUnrecognizedIn unrecognized: inout [String: String]
    ) throws(ValidationError) -> E? {
        guard options.isTolerant else { return try optional(key) }
        // One lookup: a second would count a tolerated `null` twice.
        guard let value = lookup(key) else { return nil }
        guard case .string(let text) = value, !text.isEmpty else { return try decode(value, at: key) }
        // Matched once: an enumeration's init(rawValue:) compares the text with each
        // case in turn.
        if let known = E(rawValue: text) { return known }
        try Self.checkLength(text, maxLength: DecodingOptions.tolerantStringCap, at: FieldPath([.key(key)]))
        options.noteTolerated(.valueOutsideEnumeration)
        unrecognized[key] = text
        return nil
    }

    // MARK: Strings with a length limit (CiString20, CiString25 ... and other maxLength)

    public mutating func required(_ key: String, maxLength: Int) throws(ValidationError) -> String {
        guard let value = try optional(key, maxLength: maxLength) else { throw .missing(key) }
        return value
    }

    public mutating func optional(_ key: String, maxLength: Int) throws(ValidationError) -> String? {
        guard let value: String = try optional(key) else { return nil }
        try checkLength(value, maxLength: maxLength, at: FieldPath([.key(key)]))
        return value
    }

    /// An array of strings, each at most `elementMaxLength` characters.
    public mutating func optional(_ key: String, elementMaxLength: Int) throws(ValidationError) -> [String]? {
        guard let values: [String] = try optional(key) else { return nil }
        for (index, value) in values.enumerated() {
            try checkLength(value, maxLength: elementMaxLength, at: FieldPath([.key(key), .index(index)]))
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

    /// Finds a member and counts it as known. In tolerant mode a `null` reads as absent.
    private mutating func lookup(_ key: String) -> JSONValue? {
        for (position, member) in object.members.enumerated() where member.key == key {
            if position < 64 { consumedMask |= 1 << UInt64(position) }
            if options.isTolerant, case .null = member.value {
                options.noteTolerated(.nullForOptional)
                return nil
            }
            return member.value
        }
        return nil
    }

    /// Refuses members the decoder never asked for, unless decoding is tolerant.
    mutating func finish() throws(ValidationError) {
        for (position, member) in object.members.enumerated()
        where position >= 64 || consumedMask & (1 << UInt64(position)) == 0 {
            guard options.isTolerant else {
                throw ValidationError(
                    .formationViolation, "field is not defined by the schema", at: FieldPath([.key(member.key)]))
            }
            options.noteTolerated(.unknownMember)
        }
    }

    /// The string's length limit; tolerant decoding keeps longer strings up to
    /// ``DecodingOptions/tolerantStringCap``.
    private func checkLength(_ value: String, maxLength: Int, at path: FieldPath) throws(ValidationError) {
        guard options.isTolerant, maxLength < DecodingOptions.tolerantStringCap else {
            return try Self.checkLength(value, maxLength: maxLength, at: path)
        }
        do {
            try Self.checkLength(value, maxLength: maxLength, at: path)
        } catch {
            try Self.checkLength(value, maxLength: DecodingOptions.tolerantStringCap, at: path)
            options.noteTolerated(.overlongString)
        }
    }

    static func checkLength(_ value: String, maxLength: Int, at path: FieldPath) throws(ValidationError) {
        // JSON Schema's maxLength counts code points; the UTF-8 length is an upper bound
        // and cheap, so code points are only counted when it is over the limit.
        guard value.utf8.count > maxLength, value.unicodeScalars.count > maxLength else { return }
        throw ValidationError(.propertyConstraintViolation, "longer than \(maxLength) characters", at: path)
    }
}
