import Foundation
import OCPP
import Synchronization
import Testing

/// Tolerant mode, one quirk at a time, each with a payload as real chargers send it:
/// strict decoding refuses it with the code the specification names, tolerant
/// decoding accepts it, normalizes it (what it encodes back to is what the journal
/// stores and the worker reads) and reports the quirk.
@Suite("Tolerant decoding of what real chargers send")
struct TolerantDecodingTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var quirk: ToleratedQuirk
        var action: OCPPAction
        var payload: String
        /// What strict decoding answers.
        var strictCode: OCPPErrorCode
        /// What the tolerant reading encodes back to.
        var normalized: String

        var testDescription: String { "\(quirk.rawValue): \(action.rawValue) \(payload)" }
    }

    static let cases: [Case] = [
        // A model name over CiString20 (firmware that pads or appends a variant).
        Case(
            quirk: .overlongString, action: .bootNotification,
            payload: #"{"chargePointVendor":"ACME","chargePointModel":"Wallbox-22kW-Gen3-Outdoor"}"#,
            strictCode: .propertyConstraintViolation,
            normalized: #"{"chargePointVendor":"ACME","chargePointModel":"Wallbox-22kW-Gen3-Outdoor"}"#),
        // Local time without a zone (chargers with no time-zone setting).
        Case(
            quirk: .timestampWithoutOffset, action: .statusNotification,
            payload: #"{"connectorId":1,"errorCode":"NoError","status":"Available","timestamp":"2026-12-06T16:00:00"}"#,
            strictCode: .propertyConstraintViolation,
            normalized:
                #"{"connectorId":1,"errorCode":"NoError","status":"Available","timestamp":"2026-12-06T16:00:00.000Z"}"#
        ),
        // ISO 8601's hours-only offset (C libraries' strftime %z variants).
        Case(
            quirk: .shortTimestampOffset, action: .stopTransaction,
            payload: #"{"meterStop":2000,"timestamp":"2026-12-06T18:00:00+02","transactionId":7}"#,
            strictCode: .propertyConstraintViolation,
            normalized: #"{"meterStop":2000,"timestamp":"2026-12-06T16:00:00.000Z","transactionId":7}"#),
        // Integers sent as JSON strings (firmware that formats every value as text).
        Case(
            quirk: .numberAsString, action: .statusNotification,
            payload: #"{"connectorId":"1","errorCode":"NoError","status":"Available"}"#,
            strictCode: .typeConstraintViolation,
            normalized: #"{"connectorId":1,"errorCode":"NoError","status":"Available"}"#),
        Case(
            quirk: .numberAsString, action: .startTransaction,
            payload: #"{"connectorId":"2","idTag":"T1","meterStart":"1500","timestamp":"2026-12-06T16:00:00Z"}"#,
            strictCode: .typeConstraintViolation,
            normalized: #"{"connectorId":2,"idTag":"T1","meterStart":1500,"timestamp":"2026-12-06T16:00:00.000Z"}"#),
        // `null` for an absent optional field (JSON serializers of nullable members).
        Case(
            quirk: .nullForOptional, action: .statusNotification,
            payload: #"{"connectorId":1,"errorCode":"NoError","status":"Available","info":null,"timestamp":null}"#,
            strictCode: .typeConstraintViolation,
            normalized: #"{"connectorId":1,"errorCode":"NoError","status":"Available"}"#),
        // An empty string for an absent optional enumeration or date-time.
        Case(
            quirk: .emptyStringForOptional, action: .stopTransaction,
            payload: #"{"meterStop":2000,"timestamp":"2026-12-06T16:00:00Z","transactionId":7,"reason":""}"#,
            strictCode: .propertyConstraintViolation,
            normalized: #"{"meterStop":2000,"timestamp":"2026-12-06T16:00:00.000Z","transactionId":7}"#),
        // Units and measurands outside the 1.6 lists (2.0 names, typos), kept as sent.
        Case(
            quirk: .valueOutsideEnumeration, action: .meterValues,
            payload: #"""
                {"connectorId":1,"meterValue":[{"timestamp":"2026-12-06T16:00:00Z","sampledValue":[{"value":"12.3","measurand":"Energy.Active.Net","unit":"kW.h"}]}]}
                """#,
            strictCode: .propertyConstraintViolation,
            normalized: #"""
                {"connectorId":1,"meterValue":[{"timestamp":"2026-12-06T16:00:00.000Z","sampledValue":[{"value":"12.3","measurand":"Energy.Active.Net","unit":"kW.h"}]}]}
                """#),
        // Vendor extras.
        Case(
            quirk: .unknownMember, action: .heartbeat, payload: #"{"vendorUptime":12345}"#,
            strictCode: .formationViolation, normalized: "{}"),
    ]

    @Test(arguments: cases)
    func strictRefusesTolerantNormalizes(_ quirkCase: Case) throws {
        let payload = try JSONParser.parse(quirkCase.payload)
        do {
            _ = try quirkCase.action.decodeRequest(payload, options: .strict)
            Issue.record("strict decoding accepted \(quirkCase.payload)")
        } catch {
            #expect(error.code == quirkCase.strictCode, "\(error)")
        }
        let observed = QuirkLog()
        let request = try quirkCase.action.decodeRequest(
            payload, options: DecodingOptions(mode: .tolerant, quirkObserver: observed))
        #expect(String(decoding: request.jsonBytes, as: UTF8.self) == quirkCase.normalized)
        #expect(observed.quirks.contains(quirkCase.quirk), "\(observed.quirks)")
        // What is journaled reads back the same in strict mode, except for values
        // kept as sent outside their enumerations.
        if quirkCase.quirk != .valueOutsideEnumeration && quirkCase.quirk != .overlongString {
            _ = try quirkCase.action.decodeRequest(try JSONParser.parse(quirkCase.normalized), options: .strict)
        }
    }

    @Test func tolerantModeStillRefusesWhatCannotBeStored() throws {
        let refusals: [(OCPPAction, String, OCPPErrorCode)] = [
            // Over the cap.
            (
                .bootNotification,
                #"{"chargePointVendor":"ACME","chargePointModel":"\#(String(repeating: "x", count: 1001))"}"#,
                .propertyConstraintViolation
            ),
            // Out of range, as a string too.
            (
                .statusNotification, #"{"connectorId":"-1","errorCode":"NoError","status":"Available"}"#,
                .propertyConstraintViolation
            ),
            (
                .stopTransaction, #"{"meterStop":1,"timestamp":"2026-12-06T16:00:00Z","transactionId":"2147483648"}"#,
                .propertyConstraintViolation
            ),
            // A number that JSON cannot write back.
            (.meterValues, #"{"connectorId":"NaN","meterValue":[]}"#, .typeConstraintViolation),
            // Required fields stay required, also as null or "".
            (
                .statusNotification, #"{"connectorId":1,"errorCode":"NoError","status":null}"#,
                .occurenceConstraintViolation
            ),
            (
                .statusNotification, #"{"connectorId":1,"errorCode":"","status":"Available"}"#,
                .occurenceConstraintViolation
            ),
            // Not a date in any reading.
            (
                .statusNotification,
                #"{"connectorId":1,"errorCode":"NoError","status":"Available","timestamp":"yesterday"}"#,
                .propertyConstraintViolation
            ),
        ]
        for (action, text, code) in refusals {
            let payload = try JSONParser.parse(text)
            do {
                _ = try action.decodeRequest(payload, options: .tolerant)
                Issue.record("tolerant decoding accepted \(text)")
            } catch {
                #expect(error.code == code, "\(text): \(error)")
            }
        }
    }

    /// Each tolerated deviation is counted once, also in a sampled value's enumerations.
    @Test func eachQuirkIsCountedOnce() throws {
        let payload = try JSONParser.parse(
            #"""
            {"connectorId":1,"meterValue":[{"timestamp":"2026-12-06T16:00:00Z","sampledValue":[{"value":"1","unit":null,"phase":"","measurand":"Energy.Active.Net"}]}]}
            """#)
        let observed = QuirkLog()
        _ = try OCPPAction.meterValues.decodeRequest(
            payload, options: DecodingOptions(mode: .tolerant, quirkObserver: observed))
        #expect(
            observed.quirks.sorted { $0.rawValue < $1.rawValue } == [
                .emptyStringForOptional, .nullForOptional, .valueOutsideEnumeration,
            ])
    }

    /// Strict acceptance implies tolerant acceptance of the same value, with no quirk.
    @Test func aValidPayloadReadsTheSameInBothModes() throws {
        let text = #"""
            {"connectorId":1,"transactionId":5,"meterValue":[{"timestamp":"2026-12-06T16:00:00.000Z","sampledValue":[{"value":"1","unit":"Wh"}]}]}
            """#
        let payload = try JSONParser.parse(text)
        let observed = QuirkLog()
        let strict = try OCPPAction.meterValues.decodeRequest(payload)
        let tolerant = try OCPPAction.meterValues.decodeRequest(
            payload, options: DecodingOptions(mode: .tolerant, quirkObserver: observed))
        #expect(strict.jsonBytes == tolerant.jsonBytes)
        #expect(observed.quirks.isEmpty)
    }
}

/// Collects the quirks a decode reports.
final class QuirkLog: ToleratedQuirkObserver {
    private let log = Mutex<[ToleratedQuirk]>([])

    var quirks: [ToleratedQuirk] { log.withLock { $0 } }

    func tolerated(_ quirk: ToleratedQuirk) {
        log.withLock { $0.append(quirk) }
    }
}
