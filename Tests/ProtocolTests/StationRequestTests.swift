import Testing

@testable import OCPP

/// `StationRequest`: the CALLs a central system receives, one case per charge-point
/// action, decoded as `Call.decodeRequest(receivedBy: .centralSystem)` decodes them.
@Suite("Station requests")
struct StationRequestTests {
    static let chargePointActions = OCPPAction.allCases.filter {
        $0.directions.contains(.chargePointToCentralSystem)
    }
    static let centralSystemActions = OCPPAction.allCases.filter {
        !$0.directions.contains(.chargePointToCentralSystem)
    }

    static func call(_ action: OCPPAction, full: Bool = true) throws -> Call {
        let spec = try #require(SchemaSpecs.spec(for: action))
        let payload =
            full ? ExampleGenerator.fullPayload(spec.request) : ExampleGenerator.minimalPayload(spec.request)
        guard case .object(let object) = payload else {
            Issue.record("\(action.rawValue): the example is not an object")
            return Call(messageID: "1", action: action.rawValue, payload: JSONObject([]))
        }
        return Call(messageID: "1", action: action.rawValue, payload: object)
    }

    @Test("every charge-point action decodes to its case", arguments: chargePointActions)
    func everyChargePointActionDecodesToItsCase(_ action: OCPPAction) throws {
        for full in [true, false] {
            let call = try Self.call(action, full: full)
            let decoded = try StationRequest(call)
            #expect(decoded.action == action)
            #expect(type(of: decoded.request).action == action, "the case carries another action's request")
            // The same request and the same canonical bytes as the untyped decoding.
            let untyped = try call.decodeRequest(receivedBy: .centralSystem)
            #expect(decoded.jsonBytes == untyped.jsonBytes)
            #expect(decoded.jsonBytes == decoded.request.jsonBytes)
            #expect(try StationRequest(call, options: .tolerant) == decoded)
        }
    }

    @Test("each case carries its typed request")
    func casesCarryTypedRequests() throws {
        guard case .bootNotification(let boot) = try StationRequest(Self.call(.bootNotification)) else {
            Issue.record("BootNotification is not .bootNotification")
            return
        }
        #expect(!boot.chargePointVendor.isEmpty)
        guard case .meterValues(let meterValues) = try StationRequest(Self.call(.meterValues)) else {
            Issue.record("MeterValues is not .meterValues")
            return
        }
        #expect(!meterValues.meterValue.isEmpty)
        guard case .dataTransfer = try StationRequest(Self.call(.dataTransfer)) else {
            Issue.record("DataTransfer (sent by both sides) is not .dataTransfer")
            return
        }
    }

    @Test("a central-system action sent by a station is refused", arguments: centralSystemActions)
    func centralSystemActionIsRefused(_ action: OCPPAction) throws {
        let call = try Self.call(action)
        let error = #expect(throws: ValidationError.self) { try StationRequest(call) }
        #expect(error?.code == .notSupported)
        // As the untyped decoding refuses it.
        let untyped = #expect(throws: ValidationError.self) { try call.decodeRequest(receivedBy: .centralSystem) }
        #expect(error == untyped)
    }

    @Test func anUnknownActionIsNotImplemented() {
        let call = Call(messageID: "1", action: "heartbeat", payload: JSONObject([]))
        let error = #expect(throws: ValidationError.self) { try StationRequest(call) }
        #expect(error?.code == .notImplemented)
    }

    @Test func anInvalidPayloadIsRefusedAsBefore() {
        let call = Call(
            messageID: "1", action: "BootNotification", payload: JSONObject([(key: "chargePointVendor", value: "V")]))
        let error = #expect(throws: ValidationError.self) { try StationRequest(call) }
        let untyped = #expect(throws: ValidationError.self) { try call.decodeRequest(receivedBy: .centralSystem) }
        #expect(error?.code == .occurenceConstraintViolation)
        #expect(error?.path.description == "chargePointModel")
        #expect(error == untyped)
    }
}
