import Foundation
import OCPP
import Shared

/// Reading answers in tests: `reply["items"]?[0]?["status"]?.string`.
extension JSONValue {
    /// The member `key` of an object (nil for a missing key or a non-object).
    public subscript(_ key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// The element at `index` of an array (nil when out of range or not an array).
    public subscript(_ index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    public var array: [JSONValue]? {
        guard case .array(let elements) = self else { return nil }
        return elements
    }

    /// An RFC 3339 string as a date, to the millisecond (Postgres keeps microseconds,
    /// the tests' dates are whole milliseconds).
    public var date: Date? {
        guard case .string(let text) = self, let date = RFC3339.parse(text) else { return nil }
        return Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    public var string: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    public var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    public var isNull: Bool { self == .null }
}
