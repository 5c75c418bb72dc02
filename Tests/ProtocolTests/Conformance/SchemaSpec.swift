import Testing

@testable import OCPP

// A small description language for the OCPP 1.6 JSON schemas. The spec tables of each
// profile (CoreSpecs.swift ... SecuritySpecs.swift) are written in it by hand from the
// published schemas, independently of the message types under test; the generator
// (ExampleGenerator.swift) turns them into valid and invalid payloads.
//
// Every object of the schemas sets `additionalProperties: false`, so every object
// described here is closed: a member it does not list is a FormationViolation.

/// The JSON Schema type of one field, with the constraints the OCPP schemas use.
enum FieldType: Sendable {
    /// `type: string`, with `maxLength` (counted in Unicode code points) when the schema has one.
    case string(maxLength: Int?)
    /// `type: string, format: uri`.
    case uri
    /// `type: integer`.
    case integer
    /// `type: integer` that the specification's text, or the column it is stored in,
    /// bounds (``ClosedRange/int32``, ``ClosedRange/connectorID`` ...): a value
    /// outside is a PropertyConstraintViolation.
    case boundedInteger(ClosedRange<Int>)
    /// `type: number`, with `multipleOf` when the schema has one.
    case number(multipleOf: Double?)
    /// `type: boolean`.
    case boolean
    /// `type: string, format: date-time` (RFC 3339).
    case dateTime
    /// `type: string` with an `enum` list; matching is case-sensitive.
    case enumeration([String])
    /// `type: object` with these properties and `additionalProperties: false`.
    case object([FieldSpec])
    /// `type: array` of items of one type, with `minItems` (0 when the schema has none).
    indirect case array(of: FieldType, minItems: Int)
}

extension FieldType {
    var isInteger: Bool {
        switch self {
        case .integer, .boundedInteger: true
        default: false
        }
    }
}

/// One property of an object schema.
struct FieldSpec: Sendable {
    var name: String
    var type: FieldType
    var isRequired: Bool

    static func required(_ name: String, _ type: FieldType) -> FieldSpec {
        FieldSpec(name: name, type: type, isRequired: true)
    }

    static func optional(_ name: String, _ type: FieldType) -> FieldSpec {
        FieldSpec(name: name, type: type, isRequired: false)
    }
}

/// Who sends the CALL of an action (OCPP 1.6, chapter 4 and 5; security whitepaper).
enum Sender: Sendable {
    case chargePoint
    case centralSystem
    case either

    var directions: MessageDirections {
        switch self {
        case .chargePoint: .chargePointToCentralSystem
        case .centralSystem: .centralSystemToChargePoint
        case .either: .both
        }
    }
}

/// The JSON Schema draft a schema file declares. It matters for one thing: draft-04 counts
/// only a number written without fraction or exponent as an `integer`, draft-06 any number
/// whose fraction is zero (`17.0`, `1e2`).
enum SchemaDraft: Sendable {
    /// The OCPP 1.6 schemas.
    case draft04
    /// The security whitepaper schemas.
    case draft06
}

/// The request (`<Action>.json`) and response (`<Action>Response.json`) schemas of one action.
struct MessageSpec: Sendable {
    /// The action name as on the wire, kept a string so the table can be checked
    /// against `OCPPAction` rather than built from it.
    var action: String
    var sender: Sender
    var draft: SchemaDraft
    var request: [FieldSpec]
    var response: [FieldSpec]

    init(
        _ action: String, sender: Sender, draft: SchemaDraft = .draft04, request: [FieldSpec],
        response: [FieldSpec]
    ) {
        self.action = action
        self.sender = sender
        self.draft = draft
        self.request = request
        self.response = response
    }
}

/// The two payloads of an action.
enum MessageSide: String, Sendable, CaseIterable {
    case request
    case response

    func fields(of spec: MessageSpec) -> [FieldSpec] {
        switch self {
        case .request: spec.request
        case .response: spec.response
        }
    }
}

/// All spec tables, by profile.
enum SchemaSpecs {
    static let tables: [(profile: FeatureProfile, messages: [MessageSpec])] = [
        (.core, CoreSpecs.messages),
        (.firmwareManagement, FirmwareManagementSpecs.messages),
        (.localAuthListManagement, LocalAuthListManagementSpecs.messages),
        (.reservation, ReservationSpecs.messages),
        (.smartCharging, SmartChargingSpecs.messages),
        (.remoteTrigger, RemoteTriggerSpecs.messages),
        (.security, SecuritySpecs.messages),
    ]

    static let all: [MessageSpec] = tables.flatMap(\.messages)

    static func spec(for action: OCPPAction) -> MessageSpec? {
        all.first { $0.action == action.rawValue }
    }

    static func profile(of action: OCPPAction) -> FeatureProfile? {
        tables.first { table in table.messages.contains { $0.action == action.rawValue } }?.profile
    }
}

// MARK: - Decoding through the API under test

/// What the implementation made of a payload.
enum DecodeOutcome: Equatable, CustomStringConvertible {
    /// Accepted; the decoded value encoded back to JSON.
    case accepted(JSONValue)
    case refused(OCPPErrorCode, path: String)

    var description: String {
        switch self {
        case .accepted(let value): "accepted as \(value.jsonText)"
        case .refused(let code, let path): "refused with \(code.rawValue) at '\(path)'"
        }
    }

    var acceptedValue: JSONValue? {
        if case .accepted(let value) = self { value } else { nil }
    }
}

/// The actions whose request type the registry knows. Asking `OCPPAction.requestType`
/// for any other action stops the process, so the conformance tests check this first.
let registeredActions: Set<OCPPAction> = {
    let types =
        CoreProfile.requestTypes + FirmwareManagementProfile.requestTypes
        + LocalAuthListManagementProfile.requestTypes + ReservationProfile.requestTypes
        + SmartChargingProfile.requestTypes + RemoteTriggerProfile.requestTypes + SecurityProfile.requestTypes
    return Set(types.map { $0.action })
}()

/// Decodes `payload` as the request or response of `action`, and encodes the result back.
func decode(
    _ action: OCPPAction, _ side: MessageSide, _ payload: JSONValue, options: DecodingOptions = .strict
) -> DecodeOutcome {
    let decoded: any JSONObjectCodable
    do {
        switch side {
        case .request: decoded = try action.decodeRequest(payload, options: options)
        case .response: decoded = try action.decodeResponse(payload, options: options)
        }
    } catch {
        return .refused(error.code, path: error.path.description)
    }
    // A decoded value always encodes back as valid JSON (the writer writes nothing else).
    return .accepted(try! decoded.jsonValue)
}

// MARK: - Hand-written examples

/// A realistic payload, written by hand, and what the implementation must make of it.
struct PayloadExample: Sendable, CustomTestStringConvertible {
    enum Expectation: Sendable {
        /// Accepted; the decoded value encodes to the same JSON as `expectedJSON` (or as the
        /// payload itself), comparing dates as instants and numbers as numbers.
        case accepted(expectedJSON: String?)
        case refused(OCPPErrorCode, path: String)
    }

    var name: String
    var action: OCPPAction
    var side: MessageSide
    var options: DecodingOptions
    var json: String
    var expectation: Expectation

    var testDescription: String { "\(action.rawValue) \(side): \(name)" }

    static func accepted(
        _ name: String, _ action: OCPPAction, _ side: MessageSide, _ json: String,
        options: DecodingOptions = .strict, decodesAs expectedJSON: String? = nil
    ) -> PayloadExample {
        PayloadExample(
            name: name, action: action, side: side, options: options, json: json,
            expectation: .accepted(expectedJSON: expectedJSON))
    }

    static func refused(
        _ name: String, _ action: OCPPAction, _ side: MessageSide, _ json: String,
        _ code: OCPPErrorCode, at path: String, options: DecodingOptions = .strict
    ) -> PayloadExample {
        PayloadExample(
            name: name, action: action, side: side, options: options, json: json,
            expectation: .refused(code, path: path))
    }
}
