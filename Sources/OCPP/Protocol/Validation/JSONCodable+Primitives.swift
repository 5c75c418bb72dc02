import Foundation

extension String: JSONFieldCodable {
    public static func decode(from value: JSONValue, options: DecodingOptions) throws(ValidationError) -> String {
        guard case .string(let string) = value else { throw .wrongType(expected: "string", found: value) }
        return string
    }

    public func encode(to writer: inout JSONWriter) { writer.string(self) }
}

/// JSON Schema `integer`. Under draft-04 (the 1.6 schemas) a number written with a
/// fraction or exponent (`1.0`, `1e2`) is not an integer; under draft-06 (the
/// security whitepaper's) any number with a zero fraction is. An integer beyond 64
/// bits (which the parser keeps as a double) is out of range for every field; the
/// fields that land in narrower columns check their own range
/// (``JSONObjectReader/required(_:in:)``). Tolerant decoding also reads an integer
/// sent as a string (`"1"`).
extension Int: JSONFieldCodable {
    public static func decode(from value: JSONValue, options: DecodingOptions) throws(ValidationError) -> Int {
        switch value {
        case .integer(let integer):
            return Int(integer)
        case .double(let double) where double == double.rounded() && abs(double) >= 9.0e18:
            throw ValidationError(.propertyConstraintViolation, "out of range: integers are at most 64 bits")
        case .double(let double) where options.schemaDraft == .draft06 && double == double.rounded():
            return Int(double)
        case .string(let text) where options.isTolerant:
            guard let integer = Int(text) else { throw .wrongType(expected: "integer", found: value) }
            options.noteTolerated(.numberAsString)
            return integer
        default:
            throw .wrongType(expected: "integer", found: value)
        }
    }

    public func encode(to writer: inout JSONWriter) { writer.integer(self) }
}

/// JSON Schema `number`: integers and fractions alike. Tolerant decoding also reads
/// a number sent as a string (`"230.5"`), written as JSON writes numbers.
extension Double: JSONFieldCodable {
    public static func decode(from value: JSONValue, options: DecodingOptions) throws(ValidationError) -> Double {
        switch value {
        case .integer(let integer): return Double(integer)
        case .double(let double): return double
        case .string(let text) where options.isTolerant:
            // Double(_:) also reads "nan", "inf" and hexadecimal floats, none of which
            // JSON can write back: only JSON's number characters, and a finite result.
            guard text.utf8.allSatisfy(Self.isJSONNumberByte), let number = Double(text), number.isFinite else {
                throw .wrongType(expected: "number", found: value)
            }
            options.noteTolerated(.numberAsString)
            return number
        default: throw .wrongType(expected: "number", found: value)
        }
    }

    private static func isJSONNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
            UInt8(ascii: "e"), UInt8(ascii: "E"):
            true
        default: false
        }
    }

    public func encode(to writer: inout JSONWriter) { writer.double(self) }
}

extension Bool: JSONFieldCodable {
    public static func decode(from value: JSONValue, options: DecodingOptions) throws(ValidationError) -> Bool {
        guard case .bool(let bool) = value else { throw .wrongType(expected: "boolean", found: value) }
        return bool
    }

    public func encode(to writer: inout JSONWriter) { writer.bool(self) }
}

/// JSON Schema `string` with `format: date-time`: RFC 3339 in, UTC milliseconds out.
/// Tolerant decoding also reads a date-time without an offset (as UTC) and one with
/// a short offset (`+02`, `+0200`).
extension Date: JSONFieldCodable {
    public static func decode(from value: JSONValue, options: DecodingOptions) throws(ValidationError) -> Date {
        guard case .string(let text) = value else { throw .wrongType(expected: "string", found: value) }
        guard let parsed = RFC3339.parse(text, tolerant: options.isTolerant) else {
            throw ValidationError(.propertyConstraintViolation, "not an RFC 3339 date-time")
        }
        if let quirk = parsed.quirk { options.noteTolerated(quirk) }
        return parsed.date
    }

    public func encode(to writer: inout JSONWriter) { writer.string(RFC3339.format(self)) }
}

extension Array: JSONFieldDecodable where Element: JSONFieldDecodable {
    public static func decode(from value: JSONValue, options: DecodingOptions) throws(ValidationError) -> [Element] {
        guard case .array(let elements) = value else { throw .wrongType(expected: "array", found: value) }
        var decoded: [Element] = []
        decoded.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            do {
                decoded.append(try Element.decode(from: element, options: options))
            } catch {
                throw error.prepending(.index(index))
            }
        }
        return decoded
    }
}

extension Array: JSONFieldEncodable where Element: JSONFieldEncodable {
    public func encode(to writer: inout JSONWriter) {
        writer.beginArray()
        for element in self { element.encode(to: &writer) }
        writer.endArray()
    }
}

/// A string enumeration of an OCPP schema. Conformers only declare their cases with
/// the wire spellings as raw values.
public protocol OCPPEnum: RawRepresentable<String>, CaseIterable, JSONFieldCodable, Hashable {}

extension OCPPEnum {
    public static func decode(from value: JSONValue, options: DecodingOptions) throws(ValidationError) -> Self {
        guard case .string(let text) = value else { throw .wrongType(expected: "string", found: value) }
        guard let decoded = Self(rawValue: text) else {
            let allowed = allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError(.propertyConstraintViolation, "must be one of: \(allowed)")
        }
        return decoded
    }

    public func encode(to writer: inout JSONWriter) { writer.string(rawValue) }
}
