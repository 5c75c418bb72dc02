import OCPP

// Builds payloads from a spec: a full and a minimal valid payload, variants that must
// also be accepted, and one-fault mutations that must be refused with a given code at a
// given path. Every mutation starts from the full payload and breaks exactly one thing.

/// One step of a path into a payload.
enum PathStep: Hashable, Sendable {
    case key(String)
    case index(Int)
}

typealias PayloadPath = [PathStep]

extension [PathStep] {
    /// `meterValue[1].sampledValue[1].measurand`, the way `FieldPath` renders.
    var rendered: String {
        var text = ""
        for step in self {
            switch step {
            case .key(let key): text += text.isEmpty ? key : ".\(key)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}

/// A payload that must be refused.
struct InvalidMutation: Sendable, CustomStringConvertible {
    var description: String
    var payload: JSONValue
    var expectedCode: OCPPErrorCode
    var expectedPath: String
}

/// A payload that must be accepted, and what decoding it must encode back to.
struct ValidVariant: Sendable, CustomStringConvertible {
    enum RoundTrip: Sendable {
        /// The decoded value encodes back to exactly `expected` (member order aside).
        case exact(JSONValue)
        /// The payload is not in canonical form (a date with an offset, say): the decoded value
        /// only has to encode to something that decodes to itself.
        case stable
    }

    var description: String
    var payload: JSONValue
    var roundTrip: RoundTrip
}

enum ExampleGenerator {
    /// The member every unknown-member mutation adds; no OCPP object defines it.
    static let unknownMember = "unknownMember"

    static let canonicalDates = ["2024-01-02T03:04:05.678Z", "2024-06-30T23:59:59.999Z"]

    /// Date-times that are valid RFC 3339 but not in the form the implementation writes.
    static let otherValidDates = [
        "2024-01-02T03:04:05.678+02:00", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123456-05:30",
        "2024-01-02t03:04:05.678z", "2024-02-29T12:00:00Z",
    ]

    static let invalidDates = [
        "2024-13-01T00:00:00Z", "not a date", "2024-01-01T00:00:00", "2024-02-30T00:00:00Z", "",
        "2023-02-29T12:00:00Z", "2024-01-02T24:00:00Z", "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05+0200",
        "2024-01-02", "2024-01-02T03:04:05Z ",
    ]

    /// Multiples of 0.1 that a binary `Double` cannot hold exactly.
    static let inexactTenths = [0.3, 0.7, 7.7, 123456.7]

    // MARK: Valid payloads

    /// Every field present, strings at exactly their maxLength, arrays of two items.
    static func fullPayload(_ fields: [FieldSpec]) -> JSONValue {
        object(fields, full: true)
    }

    /// Required fields only, arrays with as few items as allowed (but at least one, so that
    /// the items' own required fields are exercised; empty arrays are a variant).
    static func minimalPayload(_ fields: [FieldSpec]) -> JSONValue {
        object(fields, full: false)
    }

    private static func object(_ fields: [FieldSpec], full: Bool) -> JSONValue {
        .object(
            JSONObject(
                fields.filter { full || $0.isRequired }.map { field in
                    (key: field.name, value: value(field.type, name: field.name, item: 0, full: full))
                }))
    }

    /// A valid value of `type`; `item` varies values between array items.
    static func value(_ type: FieldType, name: String, item: Int, full: Bool) -> JSONValue {
        switch type {
        case .string(let maxLength):
            .string(maxLength.map { asciiText(name, length: $0) } ?? "\(name) #\(item) ✓")
        case .uri:
            .string("https://files.example.com/\(name)/\(item)/file.bin")
        case .integer:
            .integer(Int64(42 + item))
        case .boundedInteger(let range):
            .integer(Int64(min(max(42 + item, range.lowerBound), range.upperBound)))
        case .number(let multipleOf):
            multipleOf == nil ? .double(12.25 + Double(item)) : (item == 0 ? .double(12.3) : .double(45.6))
        case .boolean:
            .bool(item % 2 == 0)
        case .dateTime:
            .string(canonicalDates[item % canonicalDates.count])
        case .enumeration(let values):
            .string(values[item % values.count])
        case .object(let fields):
            object(fields, full: full)
        case .array(let element, let minItems):
            .array(
                (0..<(full ? max(2, minItems) : max(1, minItems))).map {
                    value(element, name: name, item: $0, full: full)
                })
        }
    }

    /// `length` ASCII characters made from `seed`.
    static func asciiText(_ seed: String, length: Int) -> String {
        String(String(repeating: seed, count: length / max(seed.count, 1) + 1).prefix(length))
    }

    // MARK: Walking a spec

    /// A field of the full payload, wherever it is nested: inside arrays, the last item (index 1).
    struct FieldSite {
        var path: PayloadPath
        var field: FieldSpec
    }

    /// An object of the full payload (the root included) and its fields.
    struct ObjectSite {
        var path: PayloadPath
        var fields: [FieldSpec]
    }

    static func fieldSites(_ fields: [FieldSpec], at path: PayloadPath = []) -> [FieldSite] {
        fields.flatMap { field -> [FieldSite] in
            let fieldPath = path + [.key(field.name)]
            return [FieldSite(path: fieldPath, field: field)] + nestedFieldSites(field.type, at: fieldPath)
        }
    }

    private static func nestedFieldSites(_ type: FieldType, at path: PayloadPath) -> [FieldSite] {
        switch type {
        case .object(let fields): fieldSites(fields, at: path)
        case .array(let element, _): nestedFieldSites(element, at: path + [.index(1)])
        default: []
        }
    }

    static func objectSites(_ fields: [FieldSpec], at path: PayloadPath = []) -> [ObjectSite] {
        [ObjectSite(path: path, fields: fields)]
            + fields.flatMap { nestedObjectSites($0.type, at: path + [.key($0.name)]) }
    }

    private static func nestedObjectSites(_ type: FieldType, at path: PayloadPath) -> [ObjectSite] {
        switch type {
        case .object(let fields): objectSites(fields, at: path)
        case .array(let element, _): nestedObjectSites(element, at: path + [.index(1)])
        default: []
        }
    }

    /// Where values of a scalar type sit: every field, and the last item of arrays of scalars.
    private static func valueSites(_ fields: [FieldSpec]) -> [(path: PayloadPath, type: FieldType)] {
        fieldSites(fields).flatMap { site -> [(path: PayloadPath, type: FieldType)] in
            var sites = [(path: site.path, type: site.field.type)]
            var path = site.path
            var type = site.field.type
            while case .array(let element, _) = type {
                path.append(.index(1))
                sites.append((path, element))
                type = element
            }
            return sites
        }
    }

    // MARK: Payloads that must be accepted

    static func validVariants(_ fields: [FieldSpec], draft: SchemaDraft = .draft04) -> [ValidVariant] {
        let full = fullPayload(fields)
        var variants: [ValidVariant] = []
        func accept(_ description: String, _ path: PayloadPath, _ value: JSONValue, exact: Bool = true) {
            let payload = full.setting(path, to: value)
            variants.append(
                ValidVariant(description: description, payload: payload, roundTrip: exact ? .exact(payload) : .stable))
        }
        for (path, type) in valueSites(fields) {
            let at = path.rendered
            switch type {
            case .enumeration(let values):
                for value in values { accept("enum value \"\(value)\" at \(at)", path, .string(value)) }
            case .string(let maxLength?):
                accept(
                    "\(maxLength) four-byte code points at \(at)", path,
                    .string(String(repeating: "🔌", count: maxLength)))
                accept(
                    "\(maxLength) two-byte code points at \(at)", path,
                    .string(String(repeating: "é", count: maxLength)))
            case .string(nil):
                accept("empty string at \(at)", path, "")
            case .number(let multipleOf):
                accept("integer written as a JSON integer in the number at \(at)", path, .integer(16))
                accept("negative number at \(at)", path, .double(-0.5))
                if multipleOf == 0.1 {
                    for number in inexactTenths {
                        accept("\(number) at \(at) (a multiple of 0.1)", path, .double(number))
                    }
                }
            case .integer:
                accept("negative integer at \(at)", path, .integer(-1))
                accept("zero at \(at)", path, .integer(0))
            case .boundedInteger(let range):
                accept("the lowest allowed integer at \(at)", path, .integer(Int64(range.lowerBound)))
                accept("the highest allowed integer at \(at)", path, .integer(Int64(range.upperBound)))
                if draft == .draft06 {
                    accept(
                        "17.0 at \(at): a draft-06 schema counts a number with a zero fraction as an integer", path,
                        .double(17), exact: false)
                }
            case .boolean:
                accept("false at \(at)", path, .bool(false))
            case .dateTime:
                for date in otherValidDates {
                    accept("date-time \"\(date)\" at \(at)", path, .string(date), exact: false)
                }
            case .array(_, minItems: 0):
                accept("empty array at \(at) (the schema sets no minItems)", path, .array([]))
            case .array(let element, let minItems) where minItems > 0:
                accept(
                    "array of exactly minItems (\(minItems)) at \(at)", path,
                    .array((0..<minItems).map { value(element, name: "item", item: $0, full: true) }))
            default:
                break
            }
        }
        return variants
    }

    // MARK: Payloads that must be refused

    static func invalidMutations(_ fields: [FieldSpec], draft: SchemaDraft = .draft04) -> [InvalidMutation] {
        let full = fullPayload(fields)
        var mutations: [InvalidMutation] = []
        func refuse(_ description: String, _ path: PayloadPath, _ value: JSONValue?, _ code: OCPPErrorCode) {
            mutations.append(
                InvalidMutation(
                    description: description, payload: full.setting(path, to: value), expectedCode: code,
                    expectedPath: path.rendered))
        }

        for site in fieldSites(fields) where site.field.isRequired {
            refuse("required \(site.path.rendered) removed", site.path, nil, .occurenceConstraintViolation)
        }

        for (path, type) in valueSites(fields) {
            let at = path.rendered
            for wrong in wrongTypeValues(for: type) {
                refuse("\(wrong.jsonText) at \(at), which is \(typeName(type))", path, wrong, .typeConstraintViolation)
            }
            if type.isInteger, draft == .draft04 {
                for (text, number) in [("1.0", 1.0), ("1e2", 100.0)] {
                    refuse(
                        "\(text) at \(at): a draft-04 schema counts only numbers without fraction or exponent as integers",
                        path, .double(number), .typeConstraintViolation)
                }
            }
            switch type {
            case .string(let maxLength?):
                refuse(
                    "\(maxLength + 1) ASCII characters at \(at) (maxLength \(maxLength))", path,
                    .string(asciiText("x", length: maxLength + 1)), .propertyConstraintViolation)
                refuse(
                    "\(maxLength + 1) four-byte code points at \(at) (maxLength \(maxLength))", path,
                    .string(String(repeating: "🔌", count: maxLength + 1)), .propertyConstraintViolation)
                if maxLength >= 2 {
                    // Fewer grapheme clusters than maxLength, but more code points.
                    let pairs = maxLength / 2 + 1
                    refuse(
                        "\(pairs) e+combining-acute pairs (\(2 * pairs) code points) at \(at) (maxLength \(maxLength))",
                        path, .string(String(repeating: "e\u{301}", count: pairs)), .propertyConstraintViolation)
                }
            case .enumeration(let values):
                var wrongValues = ["NotAnEnumValue", "", values[0] + " "]
                for changed in [values[0].lowercased(), values[0].uppercased()] where !values.contains(changed) {
                    wrongValues.append(changed)
                }
                for wrongValue in wrongValues {
                    refuse(
                        "\"\(wrongValue)\" at \(at), not in the enum", path, .string(wrongValue),
                        .propertyConstraintViolation)
                }
            case .boundedInteger(let range):
                for outside in [Int64(range.lowerBound) - 1, Int64(range.upperBound) + 1] {
                    refuse(
                        "\(outside) at \(at), outside \(range.lowerBound)...\(range.upperBound)", path,
                        .integer(outside), .propertyConstraintViolation)
                }
            case .dateTime:
                for date in invalidDates {
                    refuse("invalid date-time \"\(date)\" at \(at)", path, .string(date), .propertyConstraintViolation)
                }
            case .number(let multipleOf?):
                for number in [1.05, 12.34, 0.01] {
                    refuse(
                        "\(number) at \(at), not a multiple of \(multipleOf)", path, .double(number),
                        .propertyConstraintViolation)
                }
            case .array(let element, let minItems) where minItems > 0:
                refuse("empty array at \(at) (minItems \(minItems))", path, .array([]), .occurenceConstraintViolation)
                if minItems > 1 {
                    refuse(
                        "\(minItems - 1) items at \(at) (minItems \(minItems))", path,
                        .array((0..<(minItems - 1)).map { value(element, name: "item", item: $0, full: true) }),
                        .occurenceConstraintViolation)
                }
            default:
                break
            }
        }

        for site in objectSites(fields) {
            refuse(
                "unknown member in the object at '\(site.path.rendered)'", site.path + [.key(unknownMember)],
                "surprise", .formationViolation)
        }
        return mutations
    }

    /// JSON values of every other type than `type` accepts, `null` included.
    static func wrongTypeValues(for type: FieldType) -> [JSONValue] {
        let string: JSONValue = "1"
        let integer: JSONValue = 1
        let fraction: JSONValue = 1.5
        let boolean: JSONValue = true
        let object: JSONValue = ["key": "value"]
        let array: JSONValue = ["1"]
        switch type {
        case .string, .uri, .dateTime, .enumeration:
            return [integer, fraction, boolean, .null, object, array]
        case .integer, .boundedInteger:
            return [string, fraction, boolean, .null, object, array]
        case .number:
            return [string, boolean, .null, object, array]
        case .boolean:
            return ["true", integer, .null, object, array]
        case .object:
            return [string, integer, boolean, .null, array]
        case .array:
            return [string, integer, boolean, .null, object]
        }
    }

    static func typeName(_ type: FieldType) -> String {
        switch type {
        case .string(let maxLength): maxLength.map { "a string of at most \($0)" } ?? "a string"
        case .uri: "a URI string"
        case .integer: "an integer"
        case .boundedInteger(let range): "an integer from \(range.lowerBound) to \(range.upperBound)"
        case .number: "a number"
        case .boolean: "a boolean"
        case .dateTime: "a date-time string"
        case .enumeration: "an enum string"
        case .object: "an object"
        case .array: "an array"
        }
    }

    // MARK: Lenient decoding

    /// The full payload with an unknown member in every object, at every level.
    static func withUnknownMembersEverywhere(_ fields: [FieldSpec]) -> JSONValue {
        var payload = fullPayload(fields)
        for site in objectSites(fields) {
            payload = payload.setting(site.path + [.key(unknownMember)], to: ["vendor": "extension", "n": 1])
        }
        return payload
    }

    /// For each optional field (at any depth): the full payload with that field `null`,
    /// and the same payload without it, which is what lenient decoding must make of it.
    static func nullOptionalVariants(
        _ fields: [FieldSpec]
    ) -> [(description: String, payload: JSONValue, expected: JSONValue)] {
        let full = fullPayload(fields)
        return fieldSites(fields).filter { !$0.field.isRequired }.map { site in
            (
                "optional \(site.path.rendered) given as null", full.setting(site.path, to: .null),
                full.setting(site.path, to: nil)
            )
        }
    }
}

// MARK: - Editing JSON values

extension JSONValue {
    /// This value with the member or item at `path` replaced by `newValue`, added when it
    /// is a missing object member, or removed when `newValue` is nil.
    func setting(_ path: PayloadPath, to newValue: JSONValue?) -> JSONValue {
        setting(path[...], to: newValue)
    }

    private func setting(_ path: ArraySlice<PathStep>, to newValue: JSONValue?) -> JSONValue {
        guard let step = path.first else {
            guard let newValue else { preconditionFailure("cannot remove the root") }
            return newValue
        }
        let rest = path.dropFirst()
        switch (self, step) {
        case (.object(var object), .key(let key)):
            if let position = object.members.firstIndex(where: { $0.key == key }) {
                if rest.isEmpty, newValue == nil {
                    object.members.remove(at: position)
                } else {
                    object.members[position].value = object.members[position].value.setting(rest, to: newValue)
                }
            } else if rest.isEmpty, let newValue {
                object.members.append((key: key, value: newValue))
            } else {
                preconditionFailure("no member \(key) in \(jsonText)")
            }
            return .object(object)
        case (.array(var elements), .index(let index)):
            if rest.isEmpty, newValue == nil {
                elements.remove(at: index)
            } else {
                elements[index] = elements[index].setting(rest, to: newValue)
            }
            return .array(elements)
        default:
            preconditionFailure("path step \(step) does not fit \(jsonText)")
        }
    }
}
