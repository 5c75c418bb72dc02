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
/// security whitepaper's) any number with a zero fraction is.
extension Int: JSONFieldCodable {
    public static func decode(from value: JSONValue, options: DecodingOptions) throws(ValidationError) -> Int {
        switch value {
        case .integer(let integer):
            return Int(integer)
        case .double(let double)
        where options.schemaDraft == .draft06 && double == double.rounded() && abs(double) < 9.0e18:
            return Int(double)
        default:
            throw .wrongType(expected: "integer", found: value)
        }
    }

    public func encode(to writer: inout JSONWriter) { writer.integer(self) }
}

/// JSON Schema `number`: integers and fractions alike.
extension Double: JSONFieldCodable {
    public static func decode(from value: JSONValue, options: DecodingOptions) throws(ValidationError) -> Double {
        switch value {
        case .integer(let integer): return Double(integer)
        case .double(let double): return double
        default: throw .wrongType(expected: "number", found: value)
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
extension Date: JSONFieldCodable {
    public static func decode(from value: JSONValue, options: DecodingOptions) throws(ValidationError) -> Date {
        guard case .string(let text) = value else { throw .wrongType(expected: "string", found: value) }
        guard let date = RFC3339.parse(text) else {
            throw ValidationError(.propertyConstraintViolation, "not an RFC 3339 date-time")
        }
        return date
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
