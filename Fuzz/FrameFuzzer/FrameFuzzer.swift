// libFuzzer target over the OCPP-J frame decoder and the payload validator.
//
// Compiled by `Fuzz/run frame`, with `-sanitize=fuzzer,address`, into one module with
// IngestBinding.swift and the Gateway files the ingest path needs, against the whole
// `Sources/OCPP` compiled as module `OCPP` (with testing enabled, so that internal
// helpers are visible) and `Sources/Shared` as module `Shared`. Each input is one
// received WebSocket text message, taken through the path the gateway takes for
// untrusted input (`StationConnection.handle(text:)`):
//
//   bytes -> OCPPFrame.decode
//     FrameError        -> error.reply -> OCPPFrame.encodeCallError        (sent back)
//     CALL              -> StationRequest(call, options:)                  (strict and lenient)
//         ValidationError -> CallError(messageID:validationError:) -> encodeCallError (sent back)
//         request         -> the payload re-written as the inbox row / digest does
//                         -> CallHandler.prepare -> WorkItem -> IngestBatchStatement.makeBindings
//                            (IngestBinding.swift)
//     CALLRESULT        -> OCPPAction.decodeResponse, for every action     (OutboundDispatcher)
//     CALLERROR         -> kept as the command's failure
//
// and checks the invariants listed in docs/FUZZING.md. A broken invariant is a
// `fatalError` with a message saying which one, which libFuzzer reports as a crash.

import Foundation

@testable import OCPP

@_cdecl("LLVMFuzzerTestOneInput")
public func frameFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: size == 0 ? nil : data, count: size)
    FrameFuzz.run(bytes)
    return 0
}

/// A string that stands for a secret (an id tag, a password, a key) in payload
/// values; it must never be echoed in a CALLERROR description or its details. It is
/// in the seed corpus and the dictionary so that the fuzzer moves it around.
let canary = "s3cr3t"

enum FrameFuzz {
    /// Codes a frame-level error (FrameError) may carry (docs/PROTOCOL.md, "Frames"):
    /// PropertyConstraintViolation for a message with a number beyond a Double (`1E400`).
    static let frameErrorCodes: Set<OCPPErrorCode> = [
        .formationViolation, .protocolError, .propertyConstraintViolation,
    ]

    /// Codes a payload validation error may carry (docs/PROTOCOL.md, "Payload validation",
    /// and "Actions and directions").
    static let validationErrorCodes: Set<OCPPErrorCode> = [
        .notImplemented, .notSupported, .formationViolation, .occurenceConstraintViolation,
        .typeConstraintViolation, .propertyConstraintViolation,
    ]

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let isUTF8 = UTF8Validation.isValid(bytes)

        // Our UTF-8 validator against the standard library's.
        let stdlibSaysUTF8 = String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) != nil
        check(isUTF8 == stdlibSaysUTF8, "UTF8Validation.isValid disagrees with String(validating:as:)")

        // 1. The raw bytes, through the contiguous-buffer entry point.
        let raw = decode { () throws(FrameError) in try OCPPFrame.decode(bytes) }

        // 2. The same bytes through the generic Sequence entry point, both the
        //    contiguous fast path (an Array) and the copying path (a lazy sequence).
        let array = Array(bytes)
        let viaArray = decode { () throws(FrameError) in try OCPPFrame.decode(array) }
        check(viaArray == raw, "decode([UInt8]) differs from decode(UnsafeRawBufferPointer)")
        if bytes.count <= 4096 {
            let viaLazy = decode { () throws(FrameError) in try OCPPFrame.decode(array.lazy.map { $0 }) }
            check(viaLazy == raw, "decode(non-contiguous sequence) differs from decode(UnsafeRawBufferPointer)")
        }

        // 3. What the gateway really gets: a WebSocket text message is a Swift String,
        //    decoded with `OCPPFrame.decode(text.utf8)`. The socket closes a connection
        //    that sends ill-formed UTF-8 (1007, StationSocketHandler; `validateUTF8` is
        //    on and has no setting), so such bytes never reach the decoder; their
        //    repaired form (U+FFFD in place of each bad sequence) is valid UTF-8 a
        //    station may send, and is checked as one more input.
        let text = String(decoding: array, as: UTF8.self)
        let viaString = decode { () throws(FrameError) in try OCPPFrame.decode(text.utf8) }
        if isUTF8 {
            check(viaString == raw, "decode(String.utf8) differs from decode(bytes) on valid UTF-8")
        } else {
            // Invalid UTF-8 can only sit inside a string literal (anywhere else it is a
            // syntax error already), so the raw frame must be refused.
            guard case .failure(let error) = raw else {
                fail("a frame with ill-formed UTF-8 was accepted")
            }
            check(
                error.code == .formationViolation, "ill-formed UTF-8 refused with \(error.code), not FormationViolation"
            )
        }

        // The repaired String is longer than the bytes (U+FFFD takes three).
        let outcomes = isUTF8 ? [(raw, bytes.count)] : [(raw, bytes.count), (viaString, text.utf8.count)]
        for (outcome, inputSize) in outcomes {
            switch outcome {
            case .failure(let error):
                checkFrameError(error, inputSize: inputSize)
            case .success(let frame):
                checkFrame(frame, inputSize: inputSize)
            }
        }
    }

    // MARK: Frame level

    static func checkFrameError(_ error: FrameError, inputSize: Int) {
        check(frameErrorCodes.contains(error.code), "FrameError with code \(error.code.rawValue)")
        let isAnswer =
            error.messageType == MessageTypeID.callResult.rawValue
            || error.messageType == MessageTypeID.callError.rawValue
        guard let reply = error.reply else {
            check(isAnswer, "a broken frame that is not a CALLRESULT/CALLERROR got no reply")
            return
        }
        check(!isAnswer, "a broken CALLRESULT/CALLERROR would be answered")
        check(
            reply.messageID == (error.messageID ?? FrameError.unreadableMessageID),
            "reply id is neither the frame's id nor -1")
        check(reply.errorCode == error.code, "reply code differs from the FrameError's")
        checkErrorFrame(reply, inputSize: inputSize)
    }

    /// A CALLERROR we send must be JSON of exactly `[4, id, code, description, details]`
    /// and, when its id is one OCPP-J allows (1 to 36 characters), read back by our
    /// own decoder as the same CALLERROR.
    static func checkErrorFrame(_ reply: CallError, inputSize: Int) {
        let encoded = OCPPFrame.encodeCallError(reply)
        // Bounded amplification: a field path is shown twice (description and details),
        // so an answer may be twice what was received, never more.
        check(encoded.count <= 2 * inputSize + 4096, "CALLERROR of \(encoded.count) bytes for \(inputSize) received")

        let document: JSONValue
        do {
            document = try JSONParser.parse(encoded)
        } catch {
            fail("our CALLERROR is not valid JSON: \(error)")
        }
        guard case .array(let elements) = document, elements.count == 5,
            elements[0] == .integer(MessageTypeID.callError.rawValue),
            elements[1] == .string(reply.messageID),
            elements[2] == .string(reply.errorCode.rawValue),
            elements[3] == .string(reply.errorDescription),
            case .object(let details) = elements[4], sameJSON(.object(details), .object(reply.errorDetails))
        else {
            fail("our CALLERROR does not have the shape [4, id, code, description, details]")
        }

        let id = reply.messageID
        guard !id.isEmpty, id.unicodeScalars.count <= OCPPFrame.maximumMessageIDLength,
            !id.unicodeScalars.contains("\u{0}")
        else {
            // The id of a frame refused for its id is echoed as received
            // (docs/PROTOCOL.md); such an answer is not a frame we would accept.
            return
        }
        let decoded: OCPPFrame
        do {
            decoded = try OCPPFrame.decode(encoded)
        } catch {
            fail("our CALLERROR does not decode: \(error)")
        }
        guard case .callError(let back) = decoded, back.messageID == reply.messageID,
            back.errorCode == reply.errorCode, back.errorDescription == reply.errorDescription,
            sameJSON(.object(back.errorDetails), .object(reply.errorDetails))
        else {
            fail("our CALLERROR decodes to something else")
        }
    }

    static func checkFrame(_ frame: OCPPFrame, inputSize: Int) {
        let id = frame.messageID
        check(
            !id.isEmpty && id.unicodeScalars.count <= OCPPFrame.maximumMessageIDLength, "accepted a frame with a bad id"
        )

        // Re-encoding: the result decodes to the same frame, and encoding is a fixpoint.
        let encoded = frame.bytes
        let again: OCPPFrame
        do {
            again = try OCPPFrame.decode(encoded)
        } catch {
            fail("a decoded frame re-encodes to something that does not decode: \(error)")
        }
        check(sameFrame(frame, again), "a decoded frame re-encodes to a different frame")
        check(again.bytes == encoded, "frame encoding is not stable")

        // Any string of the frame that reads as a date-time writes back as the same
        // millisecond (not only those in date fields: this reaches more dates).
        checkDates(in: .string(frame.messageID))
        switch frame {
        case .call(let call):
            checkDates(in: .object(call.payload))
            checkCall(call, inputSize: inputSize)
        case .callResult(let result):
            checkDates(in: .object(result.payload))
            checkCallResult(result)
        case .callError(let error):
            check(!error.errorCode.rawValue.isEmpty, "empty error code")
        }
    }

    // MARK: CALL

    static func checkCall(_ call: Call, inputSize: Int) {
        // The payload as the gateway writes it into the inbox row and digests it
        // (StationConnection.digest, IngestBatchStatement): compact JSON that reads
        // back as the same payload (numbers may change form: 1.0 is written 1).
        var writer = JSONWriter()
        writer.value(.object(call.payload))
        let written = writer.bytes
        guard let reread = try? JSONParser.parse(written) else { fail("payload re-written is not valid JSON") }
        check(sameJSON(reread, .object(call.payload)), "payload re-written reads back differently")
        var writerAgain = JSONWriter()
        writerAgain.value(reread)
        check(writerAgain.bytes == written, "payload writing is not stable")

        // The gateway's own step, with both decoding modes (OCPP_LENIENT).
        var strictRequest: (any OCPPRequest)?
        for options in [DecodingOptions.strict, .tolerant] {
            do {
                let stationRequest = try StationRequest(call, options: options)
                let request = stationRequest.request
                check(stationRequest.action.rawValue == call.action, "decoded a request of another action")
                check(
                    type(of: request).action == stationRequest.action, "a station request's case carries another action"
                )
                check(
                    stationRequest.jsonBytes == request.jsonBytes,
                    "a station request writes other bytes than its request")
                // The untyped decoding (the charge point's side uses it) reads the same.
                let untyped = try? call.decodeRequest(receivedBy: .centralSystem, options: options)
                check(
                    untyped.map { AnyHashable($0) } == AnyHashable(request),
                    "the typed and the untyped decoding read the CALL differently")
                check(
                    type(of: request).action.directions.contains(.chargePointToCentralSystem),
                    "the central system accepted a CALL it never receives")
                checkRoundTrip(request, options: options)
                checkStationTime(request)
                // What the gateway does next with it, up to the bound batch statement.
                IngestFuzz.run(stationRequest, call: call)
                if options.isTolerant {
                    if let strictRequest {
                        check(
                            AnyHashable(strictRequest) == AnyHashable(request),
                            "strict and lenient decoding read the same payload differently")
                    }
                } else {
                    strictRequest = request
                }
            } catch {
                if options.isTolerant {
                    check(strictRequest == nil, "lenient decoding refused what strict decoding accepted")
                }
                checkValidationError(error, call: call)
                // The CALLERROR the gateway sends for it.
                let reply = CallError(messageID: call.messageID, validationError: error)
                checkErrorFrame(reply, inputSize: inputSize)
            }
        }

        // The charge point's side and the outbound queue validate central-system
        // CALLs (SetChargingProfile, SendLocalList...) with the same code; cover them too.
        if let action = OCPPAction(rawValue: call.action), !action.directions.contains(.chargePointToCentralSystem) {
            for options in [DecodingOptions.strict, .tolerant] {
                if let request = try? action.decodeRequest(.object(call.payload), options: options) {
                    checkRoundTrip(request, options: options)
                }
            }
        }
    }

    static func checkValidationError(_ error: ValidationError, call: Call) {
        check(validationErrorCodes.contains(error.code), "ValidationError with code \(error.code.rawValue)")
        switch OCPPAction(rawValue: call.action) {
        case nil:
            check(error.code == .notImplemented, "unknown action answered \(error.code.rawValue)")
        case let action? where !action.directions.contains(.chargePointToCentralSystem):
            check(error.code == .notSupported, "a wrong-direction action answered \(error.code.rawValue)")
        default:
            check(error.code != .notImplemented && error.code != .notSupported, "known action answered \(error.code)")
        }
        // Never the value: a string value must not show in the description or the
        // details, unless the same text is a key (keys are named in field paths).
        let reply = CallError(messageID: call.messageID, validationError: error)
        let shown = reply.errorDescription + JSONValue.object(reply.errorDetails).jsonText
        if shown.contains(canary), !keysContain(.object(call.payload), canary) {
            fail("a payload value was echoed in a CALLERROR: \(shown)")
        }
    }

    // MARK: CALLRESULT

    static func checkCallResult(_ result: CallResult) {
        // The gateway validates an answer against the action of its outstanding CALL;
        // which one that is does not depend on the frame, so try them all.
        for action in OCPPAction.allCases {
            for options in [DecodingOptions.strict, .tolerant] {
                do {
                    let response = try action.decodeResponse(.object(result.payload), options: options)
                    checkRoundTrip(response, action: action, options: options)
                } catch {
                    check(validationErrorCodes.contains(error.code), "ValidationError with code \(error.code.rawValue)")
                    check(
                        error.code != .notImplemented && error.code != .notSupported,
                        "response refused as \(error.code)")
                }
            }
        }
    }

    // MARK: Typed values

    /// A decoded request encodes to JSON that decodes (with the same options: tolerant
    /// decoding keeps some quirks as sent, e.g. a phase outside the enumeration) to a
    /// value that encodes to the same bytes: the normal form is reached in one step
    /// (dates are written with milliseconds, so the first decode may carry more precision).
    static func checkRoundTrip(_ request: any OCPPRequest, options: DecodingOptions = .strict) {
        let action = type(of: request).action
        let first = request.jsonBytes
        guard let parsed = try? JSONParser.parse(first) else {
            fail("\(action.rawValue) request encodes to invalid JSON")
        }
        // jsonValue throws only past the parser's nesting limit, which no OCPP type reaches.
        guard let value = try? request.jsonValue else { fail("\(action.rawValue) request's jsonValue threw") }
        check(sameJSON(parsed, value), "jsonValue differs from jsonBytes")
        let again: any OCPPRequest
        do {
            again = try action.decodeRequest(parsed, options: options)
        } catch {
            fail("\(action.rawValue) request re-encoded is refused: \(error)")
        }
        check(again.jsonBytes == first, "\(action.rawValue) request encoding is not stable")
    }

    static func checkRoundTrip(_ response: any OCPPResponse, action: OCPPAction, options: DecodingOptions) {
        let first = response.jsonBytes
        guard let parsed = try? JSONParser.parse(first) else {
            fail("\(action.rawValue) response encodes to invalid JSON")
        }
        let again: any OCPPResponse
        do {
            again = try action.decodeResponse(parsed, options: options)
        } catch {
            fail("\(action.rawValue) response re-encoded is refused: \(error)")
        }
        check(again.jsonBytes == first, "\(action.rawValue) response encoding is not stable")
    }

    static func checkDates(in value: JSONValue) {
        switch value {
        case .string(let text):
            guard let date = RFC3339.parse(text) else { return }
            checkFormat(date)
        case .array(let elements):
            for element in elements { checkDates(in: element) }
        case .object(let object):
            for member in object.members { checkDates(in: member.value) }
        default:
            return
        }
    }

    /// RFC3339.format writes what RFC3339.parse reads back as the same millisecond.
    static func checkFormat(_ date: Date) {
        let text = RFC3339.format(date)
        guard let back = RFC3339.parse(text) else { fail("RFC3339.format wrote \(text), which does not parse") }
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        check(
            (back.timeIntervalSince1970 * 1000).rounded() == milliseconds,
            "RFC3339.format wrote \(text) for \(date.timeIntervalSince1970) s")
    }

    /// The station's own time, as CallHandler picks it (PreparedCall.stationTime), goes
    /// through RFC3339.format into the ingest statement (IngestBatchStatement): it must
    /// format without trapping and read back as the same millisecond.
    static func checkStationTime(_ request: any OCPPRequest) {
        if let stationTime = stationTime(of: request) { checkFormat(stationTime) }
    }

    /// The message's own time, as docs/PROTOCOL.md and CallHandler define it.
    static func stationTime(of request: any OCPPRequest) -> Date? {
        switch request {
        case let request as StatusNotificationRequest: request.timestamp
        case let request as MeterValuesRequest: request.meterValue.map(\.timestamp).max()
        case let request as StartTransactionRequest: request.timestamp
        case let request as StopTransactionRequest: request.timestamp
        case let request as SecurityEventNotificationRequest: request.timestamp
        default: nil
        }
    }
}

// MARK: Helpers

private func decode(_ body: () throws(FrameError) -> OCPPFrame) -> Result<OCPPFrame, FrameError> {
    Result(catching: body)
}

/// JSON equality as a reader sees it: an integer and a number with the same value
/// are the same (the writer writes a whole `1.0` as `1`).
func sameJSON(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.integer(let integer), .double(let double)), (.double(let double), .integer(let integer)):
        return Double(integer) == double
    case (.array(let left), .array(let right)):
        return left.count == right.count && zip(left, right).allSatisfy { sameJSON($0, $1) }
    case (.object(let left), .object(let right)):
        guard left.count == right.count else { return false }
        for member in left.members {
            guard let other = right[member.key], sameJSON(member.value, other) else { return false }
        }
        return true
    default:
        return lhs == rhs
    }
}

func sameFrame(_ lhs: OCPPFrame, _ rhs: OCPPFrame) -> Bool {
    switch (lhs, rhs) {
    case (.call(let left), .call(let right)):
        left.messageID == right.messageID && left.action == right.action
            && sameJSON(.object(left.payload), .object(right.payload))
    case (.callResult(let left), .callResult(let right)):
        left.messageID == right.messageID && sameJSON(.object(left.payload), .object(right.payload))
    case (.callError(let left), .callError(let right)):
        left.messageID == right.messageID && left.errorCode == right.errorCode
            && left.errorDescription == right.errorDescription
            && sameJSON(.object(left.errorDetails), .object(right.errorDetails))
    default:
        false
    }
}

func keysContain(_ value: JSONValue, _ text: String) -> Bool {
    switch value {
    case .object(let object):
        object.members.contains { $0.key.contains(text) || keysContain($0.value, text) }
    case .array(let elements):
        elements.contains { keysContain($0, text) }
    default:
        false
    }
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition { fail(message(), file: file, line: line) }
}

func fail(_ message: String, file: StaticString = #file, line: UInt = #line) -> Never {
    fatalError("fuzz invariant broken: \(message)", file: file, line: line)
}
