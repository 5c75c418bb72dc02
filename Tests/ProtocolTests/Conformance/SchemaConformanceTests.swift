import Foundation
import Testing

@testable import OCPP

/// Checks every OCPP 1.6 (and security whitepaper) message of `OCPPAction` against the
/// spec tables written from the JSON schemas: which payloads are accepted, how they come
/// back out, and with which error code and path every kind of fault is refused.
@Suite("Schema conformance")
struct SchemaConformanceTests {
    // MARK: The action list and the spec tables agree

    @Test("every action has a spec", arguments: OCPPAction.allCases)
    func everyActionHasASpec(_ action: OCPPAction) {
        #expect(SchemaSpecs.spec(for: action) != nil, "no spec for \(action.rawValue)")
    }

    @Test("the spec tables name only known actions, each once")
    func specTablesNameOnlyKnownActions() {
        for spec in SchemaSpecs.all {
            #expect(OCPPAction(rawValue: spec.action) != nil, "OCPPAction has no case for \(spec.action)")
        }
        let names = SchemaSpecs.all.map(\.action)
        #expect(Set(names).count == names.count, "an action is specified twice")
        #expect(names.count == OCPPAction.allCases.count)
    }

    @Test("profile and direction match the specification", arguments: OCPPAction.allCases)
    func profileAndDirection(_ action: OCPPAction) throws {
        let spec = try #require(SchemaSpecs.spec(for: action))
        #expect(action.profile == SchemaSpecs.profile(of: action))
        #expect(action.directions == spec.sender.directions)
    }

    @Test("a message type is registered", arguments: OCPPAction.allCases)
    func messageTypeIsRegistered(_ action: OCPPAction) {
        #expect(registeredActions.contains(action), "no request type registered for \(action.rawValue)")
    }

    // MARK: Valid payloads

    @Test("full and minimal payloads decode and round-trip", arguments: OCPPAction.allCases)
    func validPayloadsRoundTrip(_ action: OCPPAction) throws {
        let spec = try specOfRegistered(action)
        for side in MessageSide.allCases {
            let fields = side.fields(of: spec)
            for (kind, payload) in [
                ("full", ExampleGenerator.fullPayload(fields)), ("minimal", ExampleGenerator.minimalPayload(fields)),
            ] {
                let context = Comment(rawValue: "\(action.rawValue) \(side) (\(kind)): \(payload.jsonText)")
                let outcome = decode(action, side, payload)
                #expect(outcome == .accepted(payload), context)
                if let encoded = outcome.acceptedValue {
                    #expect(decode(action, side, encoded) == .accepted(payload), context)
                }
            }
        }
    }

    @Test("every enum value and other valid variants are accepted", arguments: OCPPAction.allCases)
    func validVariantsAreAccepted(_ action: OCPPAction) throws {
        let spec = try specOfRegistered(action)
        for side in MessageSide.allCases {
            for variant in ExampleGenerator.validVariants(side.fields(of: spec), draft: spec.draft) {
                let context = Comment(rawValue: "\(action.rawValue) \(side): \(variant)")
                let outcome = decode(action, side, variant.payload)
                switch variant.roundTrip {
                case .exact(let expected):
                    #expect(outcome == .accepted(expected), context)
                case .stable:
                    guard let encoded = outcome.acceptedValue else {
                        Issue.record("\(context.rawValue): \(outcome)")
                        continue
                    }
                    #expect(decode(action, side, encoded) == .accepted(encoded), context)
                }
            }
        }
    }

    // MARK: Invalid payloads

    @Test("every invalid mutation is refused with the right code and path", arguments: OCPPAction.allCases)
    func invalidMutationsAreRefused(_ action: OCPPAction) throws {
        let spec = try specOfRegistered(action)
        for side in MessageSide.allCases {
            for mutation in ExampleGenerator.invalidMutations(side.fields(of: spec), draft: spec.draft) {
                let outcome = decode(action, side, mutation.payload)
                #expect(
                    outcome == .refused(mutation.expectedCode, path: mutation.expectedPath),
                    "\(action.rawValue) \(side): \(mutation)")
            }
        }
    }

    @Test("a payload that is not an object is refused", arguments: OCPPAction.allCases)
    func nonObjectPayloadIsRefused(_ action: OCPPAction) throws {
        _ = try specOfRegistered(action)
        for side in MessageSide.allCases {
            for payload: JSONValue in ["text", 1, true, .null, []] {
                #expect(
                    decode(action, side, payload) == .refused(.typeConstraintViolation, path: ""),
                    "\(action.rawValue) \(side): \(payload.jsonText)")
            }
        }
    }

    // MARK: Lenient decoding

    @Test("unknown members and null optionals are accepted when lenient", arguments: OCPPAction.allCases)
    func lenientDecoding(_ action: OCPPAction) throws {
        let spec = try specOfRegistered(action)
        for side in MessageSide.allCases {
            let fields = side.fields(of: spec)
            let full = ExampleGenerator.fullPayload(fields)
            let withExtras = ExampleGenerator.withUnknownMembersEverywhere(fields)
            #expect(
                decode(action, side, withExtras, options: .tolerant) == .accepted(full),
                "\(action.rawValue) \(side): unknown members at every level, \(withExtras.jsonText)")
            for variant in ExampleGenerator.nullOptionalVariants(fields) {
                #expect(
                    decode(action, side, variant.payload, options: .tolerant) == .accepted(variant.expected),
                    "\(action.rawValue) \(side): \(variant.description), lenient")
                #expect(
                    decode(action, side, variant.payload, options: .strict).acceptedValue == nil,
                    "\(action.rawValue) \(side): \(variant.description), strict")
            }
        }
    }

    // MARK: Helpers

    /// The spec of `action`, or a recorded failure when the action has no spec or no
    /// registered type (asking the registry for an unregistered action would stop the run).
    private func specOfRegistered(_ action: OCPPAction) throws -> MessageSpec {
        let spec = try #require(SchemaSpecs.spec(for: action), "no spec for \(action.rawValue)")
        try #require(registeredActions.contains(action), "no request type registered for \(action.rawValue)")
        return spec
    }
}

/// Realistic payloads written by hand, per profile: what the generator cannot think of.
@Suite("Schema conformance: hand-written examples")
struct SchemaConformanceExampleTests {
    static let examples: [PayloadExample] =
        CoreSpecs.examples + FirmwareManagementSpecs.examples + LocalAuthListManagementSpecs.examples
        + ReservationSpecs.examples + SmartChargingSpecs.examples + RemoteTriggerSpecs.examples
        + SecuritySpecs.examples

    @Test("every profile has examples for every action")
    func everyActionHasExamples() {
        let covered = Set(Self.examples.map(\.action))
        for action in OCPPAction.allCases {
            #expect(covered.contains(action), "no hand-written example for \(action.rawValue)")
        }
    }

    @Test("hand-written example", arguments: examples)
    func example(_ example: PayloadExample) throws {
        try #require(
            registeredActions.contains(example.action), "no request type registered for \(example.action.rawValue)")
        let payload = try JSONParser.parse(example.json)
        let outcome = decode(example.action, example.side, payload, options: example.options)
        switch example.expectation {
        case .refused(let code, let path):
            #expect(outcome == .refused(code, path: path))
        case .accepted(let expectedJSON):
            let expected = try expectedJSON.map { try JSONParser.parse($0) } ?? payload
            let encoded = try #require(outcome.acceptedValue, "\(outcome)")
            #expect(
                sameMeaning(encoded, expected),
                "decoded as \(encoded.jsonText), expected the meaning of \(expected.jsonText)")
            #expect(decode(example.action, example.side, encoded) == .accepted(encoded), "not stable when re-decoded")
        }
    }
}

/// JSON equality where numbers compare by value (`16` and `16.0`) and date-time strings
/// by the instant they name (`10:00:00Z` and `12:00:00.000+02:00`).
func sameMeaning(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.object(let left), .object(let right)):
        return left.count == right.count
            && left.members.allSatisfy { member in right[member.key].map { sameMeaning(member.value, $0) } ?? false }
    case (.array(let left), .array(let right)):
        return left.count == right.count && zip(left, right).allSatisfy(sameMeaning)
    case (.integer, .double), (.double, .integer), (.double, .double), (.integer, .integer):
        return number(lhs) == number(rhs)
    case (.string(let left), .string(let right)):
        if left == right { return true }
        guard let leftDate = instant(left), let rightDate = instant(right) else { return false }
        return abs(leftDate.timeIntervalSince(rightDate)) < 0.0005
    default:
        return lhs == rhs
    }
}

private func number(_ value: JSONValue) -> Double? {
    switch value {
    case .integer(let integer): Double(integer)
    case .double(let double): double
    default: nil
    }
}

/// An RFC 3339 date-time read with Foundation, independently of the implementation's parser.
private func instant(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)
}
