import Testing

@testable import OCPP

@Suite("OCPP-J frames")
struct FrameCodecTests {
    @Test func decodesACall() throws {
        let frame = try OCPPFrame.decode(#"[2,"19223201","BootNotification",{"chargePointVendor":"V"}]"#)
        #expect(
            frame
                == .call(
                    Call(
                        messageID: "19223201", action: "BootNotification",
                        payload: JSONObject([(key: "chargePointVendor", value: "V")]))))
    }

    @Test func decodesACallResultAndACallError() throws {
        #expect(try OCPPFrame.decode(#"[3,"a",{}]"#) == .callResult(CallResult(messageID: "a", payload: JSONObject())))
        let error = try OCPPFrame.decode(#"[4,"a","NotSupported","nope",{"x":1}]"#)
        #expect(
            error
                == .callError(
                    CallError(
                        messageID: "a", errorCode: .notSupported, errorDescription: "nope",
                        errorDetails: JSONObject([(key: "x", value: 1)]))))
    }

    @Test func readsACallErrorWithoutDetailsAndAnUnknownCode() throws {
        let frame = try OCPPFrame.decode(#"[4,"a","SomethingElse","text"]"#)
        guard case .callError(let error) = frame else {
            Issue.record("expected a CALLERROR")
            return
        }
        #expect(error.errorCode == .genericError)
        #expect(error.errorDetails.count == 0)
    }

    /// Each malformed frame, the code it is answered with and the id the answer carries
    /// (`nil`: not answered, because the frame was itself an answer).
    @Test(arguments: [
        ("not json", OCPPErrorCode.formationViolation, "-1" as String?),
        ("{}", .formationViolation, "-1"),
        ("[]", .formationViolation, "-1"),
        (#"["2","a","Heartbeat",{}]"#, .formationViolation, "a"),
        (#"[5,"a","Heartbeat",{}]"#, .formationViolation, "a"),
        (#"[2]"#, .protocolError, "-1"),
        (#"[2,17,"Heartbeat",{}]"#, .formationViolation, "-1"),
        (#"[2,"","Heartbeat",{}]"#, .formationViolation, ""),
        (
            #"[2,"0123456789012345678901234567890123456","Heartbeat",{}]"#, .formationViolation,
            "0123456789012345678901234567890123456"
        ),
        (#"[2,"a","Heartbeat"]"#, .protocolError, "a"),
        (#"[2,"a","Heartbeat",{},{}]"#, .formationViolation, "a"),
        (#"[2,"a",7,{}]"#, .formationViolation, "a"),
        (#"[2,"a","Heartbeat",[]]"#, .formationViolation, "a"),
        (#"[2,"\u0000","Heartbeat",{}]"#, .formationViolation, "\u{0}"),
        (#"[2,"a\u0000b","Heartbeat",{}]"#, .formationViolation, "a\u{0}b"),
        (#"[2,"a","Heartbeat",null]"#, .formationViolation, "a"),
        (#"[3,"a",[]]"#, .formationViolation, nil),
        (#"[3,"a"]"#, .formationViolation, nil),
        (#"[4,"a",1,"x",{}]"#, .formationViolation, nil),
        (#"[4,"a","GenericError","x",[]]"#, .formationViolation, nil),
        // Valid JSON with a number beyond a Double (the schema property test's
        // finding): answered with the CALL's own id, as a value out of range.
        (
            #"[2,"LogStatusNot-397","LogStatusNotification",{"status":"BadMessage","requestId":1E400}]"#,
            .propertyConstraintViolation, "LogStatusNot-397"
        ),
        (
            #"[2,"big","MeterValues",{"connectorId":-1\#(String(repeating: "0", count: 400))}]"#,
            .propertyConstraintViolation, "big"
        ),
        (#"[1E400,"a","Heartbeat",{}]"#, .formationViolation, "a"),
        (#"[3,"a",{"limit":1E400}]"#, .propertyConstraintViolation, nil),
        (#"[2,"a","Heartbeat",{"x":1E400"#, .formationViolation, "-1"),
    ])
    func answersMalformedFrames(text: String, code: OCPPErrorCode, replyID: String?) {
        do {
            _ = try OCPPFrame.decode(text)
            Issue.record("expected \(text) to be refused")
        } catch {
            #expect(error.code == code)
            #expect(error.reply?.messageID == replyID)
            #expect(error.reply?.errorCode == (replyID == nil ? nil : code))
        }
    }

    @Test func acceptsAnIdOfExactly36Characters() throws {
        let id = String(repeating: "x", count: 36)
        #expect(try OCPPFrame.decode(#"[2,"\#(id)","Heartbeat",{}]"#).messageID == id)
        let accented = String(repeating: "é", count: 36)
        #expect(try OCPPFrame.decode(#"[2,"\#(accented)","Heartbeat",{}]"#).messageID == accented)
    }

    /// Found by the frame fuzzer: one character followed by thousands of combining
    /// marks is one grapheme but not one character of a JSON Schema maxLength.
    @Test func anIdOfManyCombiningMarksIsTooLong() {
        let id = "a" + String(repeating: "\u{301}", count: 5000)
        #expect(id.count == 1)
        #expect(throws: FrameError.self) { try OCPPFrame.decode(#"[2,"\#(id)","Heartbeat",{}]"#) }
    }

    @Test func encodesEveryFrameKindCompactly() throws {
        let call = OCPPFrame.call(Call(messageID: "1", action: "Heartbeat", payload: JSONObject()))
        #expect(call.text == #"[2,"1","Heartbeat",{}]"#)
        let result = OCPPFrame.callResult(CallResult(messageID: "1", payload: JSONObject([(key: "a", value: 1)])))
        #expect(result.text == #"[3,"1",{"a":1}]"#)
        let error = OCPPFrame.callError(
            CallError(messageID: "1", errorCode: .occurenceConstraintViolation, errorDescription: "d"))
        #expect(error.text == #"[4,"1","OccurenceConstraintViolation","d",{}]"#)
        for frame in [call, result, error] {
            #expect(try OCPPFrame.decode(frame.bytes) == frame)
        }
    }

    @Test func encodesTypedPayloadsWithoutAnIntermediateValue() throws {
        let response = BootNotificationResponse(
            currentTime: RFC3339.parse("2024-01-02T03:04:05.678Z")!, interval: 300, status: .accepted)
        let bytes = OCPPFrame.encodeCallResult(messageID: "m1", payload: response)
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == #"[3,"m1",{"currentTime":"2024-01-02T03:04:05.678Z","interval":300,"status":"Accepted"}]"#)
        let request = BootNotificationRequest(chargePointVendor: "V", chargePointModel: "M")
        let call = OCPPFrame.encodeCall(messageID: "m2", request: request)
        #expect(try OCPPFrame.decode(call) == .call(Call(messageID: "m2", request: request)))
    }

    @Test func aValidationErrorBecomesACallErrorNamingTheFieldButNotTheValue() {
        let error = ValidationError(
            .propertyConstraintViolation, "longer than 20 characters", at: FieldPath([.key("idTag")]))
        let callError = CallError(messageID: "7", validationError: error)
        #expect(callError.errorCode == .propertyConstraintViolation)
        #expect(callError.errorDescription == "PropertyConstraintViolation at idTag: longer than 20 characters")
        #expect(callError.errorDetails["field"] == "idTag")
    }
}

@Suite("Inbound action routing")
struct InboundRoutingTests {
    @Test func unknownActionIsNotImplemented() {
        #expect(throws: ValidationError(.notImplemented, "unknown action")) {
            try OCPPAction.resolveInbound("FlyToTheMoon", receivedBy: .centralSystem)
        }
    }

    @Test(arguments: OCPPAction.allCases)
    func eachActionIsAcceptedOnlyInItsDirection(action: OCPPAction) throws {
        for role in [OCPPRole.centralSystem, .chargePoint] {
            let accepted = action.directions.contains(
                role == .centralSystem ? .chargePointToCentralSystem : .centralSystemToChargePoint)
            if accepted {
                #expect(try OCPPAction.resolveInbound(action.rawValue, receivedBy: role) == action)
            } else {
                #expect(throws: ValidationError.self) {
                    try OCPPAction.resolveInbound(action.rawValue, receivedBy: role)
                }
                do {
                    _ = try OCPPAction.resolveInbound(action.rawValue, receivedBy: role)
                } catch {
                    #expect(error.code == .notSupported)
                }
            }
        }
    }

    @Test func actionsAreCaseSensitive() {
        #expect(throws: ValidationError.self) { try OCPPAction.resolveInbound("heartbeat", receivedBy: .centralSystem) }
    }

    @Test func aCallIsResolvedAndValidatedInOneStep() throws {
        let call = Call(
            messageID: "1", action: "BootNotification", payload: JSONObject([(key: "chargePointVendor", value: "V")]))
        do {
            _ = try call.decodeRequest(receivedBy: .centralSystem)
            Issue.record("chargePointModel is required")
        } catch {
            #expect(error.code == .occurenceConstraintViolation)
            #expect(error.path.description == "chargePointModel")
        }
    }

    @Test func theProfileAndDirectionTableMatchesTheSpecification() {
        let chargePointInitiated: Set<OCPPAction> = [
            .authorize, .bootNotification, .dataTransfer, .heartbeat, .meterValues, .startTransaction,
            .statusNotification, .stopTransaction, .diagnosticsStatusNotification, .firmwareStatusNotification,
            .logStatusNotification, .securityEventNotification, .signCertificate, .signedFirmwareStatusNotification,
        ]
        for action in OCPPAction.allCases {
            #expect(action.directions.contains(.chargePointToCentralSystem) == chargePointInitiated.contains(action))
            #expect(
                action.directions.contains(.centralSystemToChargePoint)
                    == (!chargePointInitiated.contains(action) || action == .dataTransfer))
        }
        #expect(OCPPAction.allCases.count == 39)
        #expect(OCPPAction.allCases.filter { $0.profile == .core }.count == 16)
        #expect(OCPPAction.allCases.filter { $0.profile == .security }.count == 11)
    }
}

/// Strings the decoder hands on are valid UTF-8 and write back as the bytes received:
/// ill-formed UTF-8 in a string is refused (FormationViolation), never repaired into
/// other text, whichever way the bytes come in (the fuzz finding of an Authorize whose
/// idTag held ill-formed bytes).
@Suite("Frames with ill-formed UTF-8")
struct FrameUTF8Tests {
    /// `[2,"1","Authorize",{"idTag":"…"}]` around `idTag`'s raw bytes.
    static func authorize(idTag: [UInt8]) -> [UInt8] {
        Array(#"[2,"1","Authorize",{"idTag":""#.utf8) + idTag + Array(#""}]"#.utf8)
    }

    @Test(
        arguments: [
            // The fuzzer's input: a truncated sequence, lone continuation bytes, 0xFF.
            [0xC3, 0x5B, 0x34, 0x2C, 0x80, 0x80] + [UInt8](repeating: 0xFF, count: 15) + [0x80, 0x80],
            [0xC3, 0x28],  // a lead byte without its continuation
            [0xC0, 0xAF],  // an overlong "/"
            [0xED, 0xA0, 0x80],  // a surrogate (U+D800)
            [0xF4, 0x90, 0x80, 0x80],  // beyond U+10FFFF
            Array("a\\n".utf8) + [0xC3],  // after an escape: the copying path
        ] as [[UInt8]])
    func refusedAsFormationViolation(idTag: [UInt8]) {
        let bytes = Self.authorize(idTag: idTag)
        #expect(!bytes.withUnsafeBytes { UTF8Validation.isValid($0) })
        // The contiguous path (the raw buffer) and the copying one (any sequence).
        #expect(Self.refusal { () throws(FrameError) in try OCPPFrame.decode(bytes) } == .formationViolation)
        #expect(
            Self.refusal { () throws(FrameError) in try OCPPFrame.decode(bytes.lazy.map { $0 }) } == .formationViolation
        )
    }

    /// The code of the decoder's refusal; nil when it accepted the frame.
    static func refusal(_ decode: () throws(FrameError) -> OCPPFrame) -> OCPPErrorCode? {
        do {
            _ = try decode()
            return nil
        } catch {
            return error.code
        }
    }

    @Test func validNonASCIIStringsRoundTrip() throws {
        // U+FFFD, what a repairing reader would have made of the bytes above, is text a
        // station may send: accepted, and written back byte for byte.
        let idTag = "\u{FFFD}é€😀\u{FFFD}"
        let bytes = Self.authorize(idTag: Array(idTag.utf8))
        guard case .call(let call) = try OCPPFrame.decode(bytes) else {
            Issue.record("not a CALL")
            return
        }
        guard case .authorize(let request) = try StationRequest(call) else {
            Issue.record("not an Authorize")
            return
        }
        #expect(request.idTag == idTag)
        #expect(Array(request.idTag.utf8) == Array(idTag.utf8))
        #expect(OCPPFrame.call(call).bytes == bytes)
    }
}
