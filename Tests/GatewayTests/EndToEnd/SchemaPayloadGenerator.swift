import Foundation
import OCPP
import Shared
import TestSupport

// Payloads generated from the official OCPP 1.6 JSON schemas, for the end-to-end
// property test (SchemaPropertyTests). The schemas are not in the repository:
// scripts/test takes them from the PyPI package `ocpp` and sets OCPP_SCHEMA_DIR.

/// The generator's draws, on the seeded SplitMix64 of TestSupport: the same seed gives
/// the same payloads.
extension SplitMix64 {
    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &self) < percent }

    mutating func pick<Element>(_ elements: [Element]) -> Element { elements.randomElement(using: &self)! }
}

/// JSON as text is written: numbers are kept as their literal, so integers beyond
/// 64 bits (`18446744073709551616`, `10^30`) can be sent, which ``JSONValue`` cannot hold.
indirect enum RawJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([RawJSON])
    case object([Member])

    struct Member: Sendable, Equatable {
        var key: String
        var value: RawJSON
    }

    /// Compact JSON; with `escapeNonASCII`, every scalar above U+007F is written as a
    /// `\u` escape (a surrogate pair above the BMP), which the parser must read back.
    func text(escapeNonASCII: Bool = false) -> String {
        var output = ""
        write(to: &output, escapeNonASCII: escapeNonASCII)
        return output
    }

    private func write(to output: inout String, escapeNonASCII: Bool) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let literal): output += literal
        case .string(let string): Self.writeString(string, to: &output, escapeNonASCII: escapeNonASCII)
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.write(to: &output, escapeNonASCII: escapeNonASCII)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { output += "," }
                Self.writeString(member.key, to: &output, escapeNonASCII: escapeNonASCII)
                output += ":"
                member.value.write(to: &output, escapeNonASCII: escapeNonASCII)
            }
            output += "}"
        }
    }

    private static func writeString(_ string: String, to output: inout String, escapeNonASCII: Bool) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20: output += hexEscape(UInt16(scalar.value))
            case _ where escapeNonASCII && scalar.value > 0x7F:
                for unit in String(scalar).utf16 { output += hexEscape(unit) }
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }

    private static func hexEscape(_ unit: UInt16) -> String {
        let hex = String(unit, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}

/// The part of JSON Schema (draft-04 and draft-06) the OCPP 1.6 schemas use. A
/// keyword that would constrain values and is not understood here makes loading
/// fail, so a newer schema cannot silently turn "valid" payloads into invalid ones.
final class SchemaNode: Sendable {
    let types: [String]
    let properties: [(name: String, schema: SchemaNode)]
    let required: [String]
    let enumValues: [RawJSON]?
    let maxLength: Int?
    let minItems: Int?
    let maxItems: Int?
    let format: String?
    let multipleOf: Double?
    let items: SchemaNode?
    let additionalPropertiesAllowed: Bool

    /// Keywords that carry no constraint on the values generated here.
    private static let ignored: Set<String> = [
        "$schema", "$id", "id", "title", "description", "definitions", "javaType", "readonly", "additionalItems",
        "default", "additionalProperties",
    ]
    private static let understood: Set<String> = [
        "type", "properties", "required", "enum", "maxLength", "minItems", "maxItems", "format", "multipleOf",
        "items", "$ref",
    ]

    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads a schema file.
    static func load(contentsOf url: URL) throws -> SchemaNode {
        let data = try Data(contentsOf: url)
        let document = try JSONParser.parse(Array(data))
        return try SchemaNode(document, root: document, path: url.lastPathComponent)
    }

    init(_ value: JSONValue, root: JSONValue, path: String) throws {
        guard case .object(var object) = value else { throw LoadError(description: "\(path): not an object") }
        if case .string(let reference)? = object["$ref"] {
            let prefix = "#/definitions/"
            guard reference.hasPrefix(prefix), case .object(let definitions)? = root["definitions"],
                case .object(let target)? = definitions[String(reference.dropFirst(prefix.count))]
            else { throw LoadError(description: "\(path): cannot resolve $ref \(reference)") }
            // Sibling keywords of $ref are ignored by draft-04/06; the target is used.
            object = target
        }
        for member in object.members where !Self.ignored.contains(member.key) && !Self.understood.contains(member.key) {
            throw LoadError(description: "\(path): keyword \(member.key) is not supported by the generator")
        }
        switch object["type"] {
        case .string(let type)?: types = [type]
        case .array(let list)?: types = list.compactMap { if case .string(let type) = $0 { type } else { nil } }
        default: types = object["enum"] != nil ? ["string"] : ["object"]
        }
        var properties: [(name: String, schema: SchemaNode)] = []
        if case .object(let members)? = object["properties"] {
            for member in members.members {
                properties.append(
                    (member.key, try SchemaNode(member.value, root: root, path: "\(path)/\(member.key)")))
            }
        }
        self.properties = properties
        if case .array(let names)? = object["required"] {
            required = names.compactMap { if case .string(let name) = $0 { name } else { nil } }
        } else {
            required = []
        }
        if case .array(let values)? = object["enum"] {
            enumValues = values.map(RawJSON.init)
        } else {
            enumValues = nil
        }
        maxLength = Self.integer(object["maxLength"])
        minItems = Self.integer(object["minItems"])
        maxItems = Self.integer(object["maxItems"])
        if case .string(let format)? = object["format"] { self.format = format } else { format = nil }
        switch object["multipleOf"] {
        case .integer(let value)?: multipleOf = Double(value)
        case .double(let value)?: multipleOf = value
        default: multipleOf = nil
        }
        if let items = object["items"] {
            self.items = try SchemaNode(items, root: root, path: "\(path)[]")
        } else {
            items = nil
        }
        additionalPropertiesAllowed = object["additionalProperties"] != .bool(false)
    }

    private static func integer(_ value: JSONValue?) -> Int? {
        if case .integer(let integer)? = value { Int(integer) } else { nil }
    }

    func property(_ name: String) -> SchemaNode? {
        properties.first { $0.name == name }?.schema
    }
}

extension RawJSON {
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let bool): self = .bool(bool)
        case .integer(let integer): self = .number(String(integer))
        case .double(let double): self = .number("\(double)")
        case .string(let string): self = .string(string)
        case .array(let elements): self = .array(elements.map(RawJSON.init))
        case .object(let object): self = .object(object.members.map { Member(key: $0.key, value: RawJSON($0.value)) })
        }
    }
}

/// One generated CALL payload.
struct GeneratedPayload: Sendable {
    var value: RawJSON
    /// The JSON text sent (sometimes with non-ASCII written as `\u` escapes).
    var text: String
    /// What made it schema-invalid; nil for a payload the schema accepts.
    var mutation: String?
}

/// Generates payloads for one schema: mostly valid ones, with the edge cases drawn
/// often, and some schema-invalid mutations of them.
struct SchemaPayloadGenerator {
    let schema: SchemaNode
    var random: SplitMix64
    /// Percentage of payloads that are mutated to be schema-invalid.
    var mutationPercent = 20
    /// Properties whose integers stay within Int32 (`*`: all), for working on the
    /// gateway while it still traps on larger ones; empty in the test command.
    var int32Only: Set<String> = []
    /// Frames larger than the gateway's default OCPP_MAX_FRAME_SIZE are closed with
    /// 1009, by design; payloads stay well below it.
    var maximumPayloadBytes = 60_000

    init(schema: SchemaNode, seed: UInt64) {
        self.schema = schema
        random = SplitMix64(seed: seed)
    }

    mutating func next() -> GeneratedPayload {
        let valid = value(for: schema)
        var payload = GeneratedPayload(value: valid, text: "", mutation: nil)
        if random.chance(mutationPercent), let (mutated, description) = mutate(valid) {
            payload.value = mutated
            payload.mutation = description
        }
        let escape = random.chance(10)
        payload.text = payload.value.text(escapeNonASCII: escape)
        if payload.text.utf8.count > maximumPayloadBytes { payload.text = payload.value.text() }
        return payload
    }

    // MARK: Valid values

    mutating func value(for schema: SchemaNode, name: String = "") -> RawJSON {
        if let values = schema.enumValues { return random.pick(values) }
        switch random.pick(schema.types) {
        case "object": return object(for: schema)
        case "array": return array(for: schema)
        case "string": return schema.format == "date-time" ? .string(dateTime()) : .string(string(schema))
        case "integer":
            let narrow = int32Only.contains("*") || int32Only.contains(name)
            return .number(integer(multipleOf: schema.multipleOf, int32Only: narrow))
        case "number": return .number(number(multipleOf: schema.multipleOf))
        case "boolean": return .bool(random.chance(50))
        default: return .null
        }
    }

    private mutating func object(for schema: SchemaNode) -> RawJSON {
        var members: [RawJSON.Member] = []
        for (name, property) in schema.properties where schema.required.contains(name) || random.chance(50) {
            members.append(RawJSON.Member(key: name, value: value(for: property, name: name)))
        }
        if random.chance(20) { members.shuffle(using: &random) }
        return .object(members)
    }

    private mutating func array(for schema: SchemaNode) -> RawJSON {
        let minimum = schema.minItems ?? 0
        var count = minimum + (random.chance(40) ? 0 : Int.random(in: 1...3, using: &random))
        if let maximum = schema.maxItems { count = min(count, maximum) }
        guard let items = schema.items else { return .array([]) }
        return .array((0..<count).map { _ in value(for: items) })
    }

    static let integerEdges = [
        "0", "-0", "1", "-1", "2147483647", "-2147483648", "2147483648", "-2147483649", "4294967296",
        "9223372036854775807", "-9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "18446744073709551616", "1000000000000000000000000000000", "-1000000000000000000000000000000",
    ]

    private mutating func integer(multipleOf: Double?, int32Only: Bool) -> String {
        if let multipleOf {
            let factor = Int.random(in: -3...1000, using: &random)
            let value = Double(factor) * multipleOf
            return value == value.rounded() ? String(Int64(value)) : "\(value)"
        }
        if random.chance(50) {
            let edges = int32Only ? Self.integerEdges.filter { Int32($0) != nil } : Self.integerEdges
            return random.pick(edges)
        }
        return random.chance(60)
            ? String(Int.random(in: 0...100, using: &random)) : String(Int32.random(in: .min ... .max, using: &random))
    }

    private mutating func number(multipleOf: Double?) -> String {
        if let multipleOf {
            let value = Double(Int.random(in: -3...1000, using: &random)) * multipleOf
            // Written as the product; many-decimal multiples would be the generator's rounding, not the station's.
            return "\(value)"
        }
        if random.chance(40) {
            return random.pick([
                "0", "-0.0", "0.1", "1.5", "-1.5", "3.14159265358979323846264338327950288", "0.000000000000000000001",
                "1e-400", "1E+2", "1.7976931348623157e308", "-1.7976931348623157e308",
                "123456789012345678901234567890.5",
                "2147483648.25", "5e-324",
            ])
        }
        let whole = Int.random(in: -100_000...100_000, using: &random)
        let digits = (0..<Int.random(in: 1...20, using: &random)).map { _ in
            String(Int.random(in: 0...9, using: &random))
        }
        return "\(whole).\(digits.joined())"
    }

    // MARK: Strings

    /// Pools of scalars; a string draws from one or several.
    static let asciiPool = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -_.:/+=\"\\'{}[]<>%&".unicodeScalars)
    static let nonASCIIPool: [Unicode.Scalar] = [
        "é", "ß", "ø", "Ω", "中", "文", "日", "ㅎ",
        "\u{0301}", "\u{0308}", "\u{20DD}", "\u{0327}",  // combining marks
        "م", "ر", "ح", "ש", "ל", "\u{200F}", "\u{202E}", "\u{202B}",  // right-to-left letters and controls
        // emoji, ZWJ, variation selector
        "🔌", "⚡", "😀", "🚗", "\u{1F468}", "\u{200D}", "\u{1F469}", "\u{FE0F}",
        "\u{FEFF}", "\u{FFFD}", "\u{FFFF}", "\u{10FFFF}", "\u{00A0}", "\u{2028}", "\u{2029}",
    ]
    static let controlPool: [Unicode.Scalar] = ["\u{0}", "\u{1}", "\t", "\n", "\r", "\u{1B}", "\u{1F}", "\u{7F}"]

    private mutating func string(_ schema: SchemaNode) -> String {
        // Without maxLength, "at the limit" is a long string.
        let limit = schema.maxLength ?? Int.random(in: 100...1_000, using: &random)
        let length: Int
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<12: length = 0
        case 12..<30: length = schema.maxLength != nil || random.chance(40) ? limit : 1
        case 30..<38: length = max(0, limit - 1)
        default: length = Int.random(in: 1...min(limit, 40), using: &random)
        }
        var pool = Self.asciiPool
        if random.chance(50) { pool += Self.nonASCIIPool + Self.nonASCIIPool }
        if random.chance(8) { pool += Self.controlPool }
        var scalars = String.UnicodeScalarView()
        for _ in 0..<length { scalars.append(random.pick(pool)) }
        return String(scalars)
    }

    // MARK: Dates

    private mutating func dateTime() -> String {
        // RFC 3339 allows year 0000 too (PostgreSQL has no year 0: it is 1 BC).
        let year = random.pick([
            0,
            1, 1, 1970, 1970, 9999, 9999, 2000, 2024, 1969, 2038, 2100, Int.random(in: 1900...2100, using: &random),
        ])
        let month = random.chance(15) ? 2 : Int.random(in: 1...12, using: &random)
        let isLeap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        let day = random.chance(30) ? days : (random.chance(20) ? 1 : Int.random(in: 1...days, using: &random))
        let hour = random.chance(30) ? random.pick([0, 23]) : Int.random(in: 0...23, using: &random)
        let minute = random.chance(30) ? random.pick([0, 59]) : Int.random(in: 0...59, using: &random)
        // RFC 3339's time-second is 00 to 60: a leap second.
        let second = random.chance(10) ? 60 : (random.chance(20) ? 59 : Int.random(in: 0...59, using: &random))
        let fractionDigits = random.chance(40) ? 0 : Int.random(in: 1...9, using: &random)
        let fraction =
            fractionDigits == 0
            ? "" : "." + (0..<fractionDigits).map { _ in String(Int.random(in: 0...9, using: &random)) }.joined()
        let offset: String
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<35: offset = "Z"
        case 35..<38: offset = "z"
        case 38..<80:
            offset = random.pick([
                "+00:00", "-00:00", "+17:17", "-23:59", "+23:59", "+14:00", "-12:00", "+05:30", "-09:30",
            ])
        default:
            let minutes = Int.random(in: 0...(23 * 60 + 59), using: &random)
            offset = (random.chance(50) ? "+" : "-") + Self.pad(minutes / 60, 2) + ":" + Self.pad(minutes % 60, 2)
        }
        let separator = random.chance(3) ? "t" : "T"
        return Self.pad(year, 4) + "-" + Self.pad(month, 2) + "-" + Self.pad(day, 2) + separator + Self.pad(hour, 2)
            + ":" + Self.pad(minute, 2) + ":" + Self.pad(second, 2) + fraction + offset
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    // MARK: Mutations

    private enum Step: Equatable {
        case key(String)
        case index(Int)
    }

    private struct Site {
        var path: [Step]
        var description: String
        /// The replacement; nil removes the member.
        var transform: @Sendable (RawJSON) -> RawJSON?
    }

    /// A schema-invalid variant of a valid payload, and what was done.
    private mutating func mutate(_ value: RawJSON) -> (RawJSON, String)? {
        var sites: [Site] = [
            Site(path: [], description: "payload not an object") { _ in .array([]) },
            Site(path: [], description: "payload is a string") { _ in .string("payload") },
        ]
        collectSites(value, schema: schema, path: [], into: &sites)
        // The whole-payload replacements are rare; the others are drawn evenly.
        let site = sites.count > 2 && !random.chance(5) ? random.pick(Array(sites.dropFirst(2))) : random.pick(sites)
        let mutated = Self.apply(site.transform, at: site.path[...], in: value) ?? .null
        let location = site.path.map { step in
            switch step {
            case .key(let key): "/" + key
            case .index(let index): "/\(index)"
            }
        }.joined()
        return (mutated, "\(site.description) at \(location.isEmpty ? "/" : location)")
    }

    private mutating func collectSites(_ value: RawJSON, schema: SchemaNode, path: [Step], into sites: inout [Site]) {
        switch value {
        case .object(let members):
            for name in schema.required where members.contains(where: { $0.key == name }) {
                sites.append(Site(path: path + [.key(name)], description: "missing required \(name)") { _ in nil })
            }
            if !schema.additionalPropertiesAllowed {
                sites.append(
                    Site(path: path, description: "unknown property") { value in
                        guard case .object(var members) = value else { return value }
                        members.append(RawJSON.Member(key: "unknownProperty", value: .string("x")))
                        return .object(members)
                    })
            }
            for member in members {
                guard let property = schema.property(member.key) else { continue }
                let memberPath = path + [.key(member.key)]
                sites.append(Site(path: memberPath, description: "null") { _ in .null })
                sites.append(Site(path: memberPath, description: "wrong type") { Self.wrongType(for: $0) })
                collectSites(member.value, schema: property, path: memberPath, into: &sites)
            }
        case .array(let elements):
            if let minimum = schema.minItems, minimum > 0 {
                sites.append(Site(path: path, description: "fewer than minItems") { _ in .array([]) })
            }
            if let items = schema.items {
                for (index, element) in elements.enumerated() {
                    sites.append(
                        Site(path: path + [.index(index)], description: "wrong item type") { Self.wrongType(for: $0) })
                    collectSites(element, schema: items, path: path + [.index(index)], into: &sites)
                }
            }
        case .string(let string):
            if schema.enumValues != nil {
                let allowed = schema.enumValues ?? []
                let candidates = ["Bogus", string.lowercased(), string.uppercased(), "", string + " "]
                let unknown = random.pick(candidates.filter { !allowed.contains(.string($0)) })
                sites.append(Site(path: path, description: "value outside the enum") { _ in .string(unknown) })
            }
            if let maximum = schema.maxLength {
                let long = String(repeating: random.pick(["x", "é", "🔌", "e\u{301}"]), count: maximum + 1)
                sites.append(Site(path: path, description: "longer than maxLength") { _ in .string(long) })
            }
            if schema.format == "date-time" {
                let bad = random.pick([
                    "2024-02-30T00:00:00Z", "2023-02-29T12:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01 00:00:00Z",
                    "2024-01-01T24:00:00Z", "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00", "2024-01-01",
                    "10000-01-01T00:00:00Z", "not a date",
                    "2024-01-01T00:00:00.Z", "2024-01-01T00:61:00Z", "+002024-01-01T00:00:00Z", "",
                ])
                sites.append(Site(path: path, description: "not an RFC 3339 date-time") { _ in .string(bad) })
            }
        case .number:
            if schema.types.contains("integer") {
                let notInteger = random.pick(["1.5", "1.0", "1e2", "-0.5", "1E400"])
                sites.append(
                    Site(path: path, description: "integer with a fraction or exponent") { _ in
                        .number(notInteger)
                    })
            }
        default:
            break
        }
    }

    private static func wrongType(for value: RawJSON) -> RawJSON {
        switch value {
        case .string: .number("42")
        case .number: .string("42")
        case .bool: .string("true")
        case .array: .object([])
        case .object: .array([])
        case .null: .bool(false)
        }
    }

    private static func apply(
        _ transform: (RawJSON) -> RawJSON?, at path: ArraySlice<Step>, in value: RawJSON
    ) -> RawJSON? {
        guard let step = path.first else { return transform(value) }
        switch (step, value) {
        case (.key(let key), .object(var members)):
            guard let index = members.firstIndex(where: { $0.key == key }) else { return value }
            if let replaced = apply(transform, at: path.dropFirst(), in: members[index].value) {
                members[index].value = replaced
            } else {
                members.remove(at: index)
            }
            return .object(members)
        case (.index(let index), .array(var elements)):
            elements[index] = apply(transform, at: path.dropFirst(), in: elements[index]) ?? .null
            return .array(elements)
        default:
            return value
        }
    }
}
