import Foundation
import HTTPTypes
import Hummingbird
import OCPP
import Shared

/// The form of every command a central system sends (OCPP 1.6 and its security
/// extension): the fields of its payload and how a field's text becomes JSON. The
/// rules themselves are not here: the payload is checked by the admin API's own
/// ``CommandRoutes/command(from:)``, and its errors are put next to the fields.
enum ConsoleCommandForms {
    enum Kind: String, Sendable {
        /// A string.
        case text
        /// A long string (certificates).
        case textarea
        /// A whole number; text that is not one is passed on as a string, for the
        /// validation to name.
        case integer
        /// A time: a `datetime-local` value is taken as UTC.
        case dateTime
        /// One of the given values.
        case choice
        /// A JSON value, typed as is (charging profiles, local lists).
        case json
        /// A list of strings, comma-separated.
        case list
    }

    struct Field: Sendable {
        let name: String
        let kind: Kind
        let required: Bool
        var choices: [String] = []
        var hint: String = ""
    }

    static func field(
        _ name: String, _ kind: Kind, required: Bool = false, _ choices: [String] = [], hint: String = ""
    )
        -> Field
    {
        Field(name: name, kind: kind, required: required, choices: choices, hint: hint)
    }

    /// Every command, in the order the form lists them.
    static let commands: [(action: String, fields: [Field])] = [
        (
            "ChangeAvailability",
            [
                field("connectorId", .integer, required: true),
                field("type", .choice, required: true, ["Inoperative", "Operative"]),
            ]
        ),
        ("ChangeConfiguration", [field("key", .text, required: true), field("value", .text, required: true)]),
        ("ClearCache", []),
        (
            "DataTransfer",
            [field("vendorId", .text, required: true), field("messageId", .text), field("data", .textarea)]
        ),
        ("GetConfiguration", [field("key", .list, hint: "keys separated by commas; empty for all")]),
        (
            "RemoteStartTransaction",
            [
                field("idTag", .text, required: true), field("connectorId", .integer),
                field("chargingProfile", .json, hint: "a ChargingProfile as JSON"),
            ]
        ),
        ("RemoteStopTransaction", [field("transactionId", .integer, required: true)]),
        ("Reset", [field("type", .choice, required: true, ["Soft", "Hard"])]),
        ("UnlockConnector", [field("connectorId", .integer, required: true)]),
        (
            "GetDiagnostics",
            [
                field("location", .text, required: true), field("retries", .integer), field("retryInterval", .integer),
                field("startTime", .dateTime), field("stopTime", .dateTime),
            ]
        ),
        (
            "UpdateFirmware",
            [
                field("location", .text, required: true), field("retrieveDate", .dateTime, required: true),
                field("retries", .integer), field("retryInterval", .integer),
            ]
        ),
        ("GetLocalListVersion", []),
        (
            "SendLocalList",
            [
                field("listVersion", .integer, required: true),
                field("updateType", .choice, required: true, ["Differential", "Full"]),
                field(
                    "localAuthorizationList", .json, hint: #"[{"idTag": "TAG-1", "idTagInfo": {"status": "Accepted"}}]"#
                ),
            ]
        ),
        ("CancelReservation", [field("reservationId", .integer, required: true)]),
        (
            "ReserveNow",
            [
                field("connectorId", .integer, required: true), field("expiryDate", .dateTime, required: true),
                field("idTag", .text, required: true), field("parentIdTag", .text),
                field("reservationId", .integer, required: true),
            ]
        ),
        (
            "ClearChargingProfile",
            [
                field("id", .integer), field("connectorId", .integer),
                field("chargingProfilePurpose", .choice, ["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]),
                field("stackLevel", .integer),
            ]
        ),
        (
            "GetCompositeSchedule",
            [
                field("connectorId", .integer, required: true), field("duration", .integer, required: true),
                field("chargingRateUnit", .choice, ["A", "W"]),
            ]
        ),
        (
            "SetChargingProfile",
            [
                field("connectorId", .integer, required: true),
                field("csChargingProfiles", .json, required: true, hint: "a ChargingProfile as JSON"),
            ]
        ),
        (
            "TriggerMessage",
            [
                field(
                    "requestedMessage", .choice, required: true,
                    [
                        "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat",
                        "MeterValues", "StatusNotification",
                    ]), field("connectorId", .integer),
            ]
        ),
        ("CertificateSigned", [field("certificateChain", .textarea, required: true, hint: "PEM")]),
        (
            "DeleteCertificate",
            [
                field(
                    "certificateHashData", .json, required: true,
                    hint:
                        #"{"hashAlgorithm": "SHA256", "issuerNameHash": "...", "issuerKeyHash": "...", "serialNumber": "..."}"#
                )
            ]
        ),
        (
            "ExtendedTriggerMessage",
            [
                field(
                    "requestedMessage", .choice, required: true,
                    [
                        "BootNotification", "LogStatusNotification", "FirmwareStatusNotification", "Heartbeat",
                        "MeterValues", "SignChargePointCertificate", "StatusNotification",
                    ]), field("connectorId", .integer),
            ]
        ),
        (
            "GetInstalledCertificateIds",
            [
                field(
                    "certificateType", .choice, required: true,
                    ["CentralSystemRootCertificate", "ManufacturerRootCertificate"])
            ]
        ),
        (
            "GetLog",
            [
                field("logType", .choice, required: true, ["DiagnosticsLog", "SecurityLog"]),
                field("requestId", .integer, required: true),
                field("log", .json, required: true, hint: #"{"remoteLocation": "ftp://example.com/logs"}"#),
                field("retries", .integer), field("retryInterval", .integer),
            ]
        ),
        (
            "InstallCertificate",
            [
                field(
                    "certificateType", .choice, required: true,
                    ["CentralSystemRootCertificate", "ManufacturerRootCertificate"]),
                field("certificate", .textarea, required: true, hint: "PEM"),
            ]
        ),
        (
            "SignedUpdateFirmware",
            [
                field("requestId", .integer, required: true),
                field(
                    "firmware", .json, required: true,
                    hint:
                        #"{"location": "...", "retrieveDateTime": "...", "signingCertificate": "...", "signature": "..."}"#
                ),
                field("retries", .integer), field("retryInterval", .integer),
            ]
        ),
    ]

    static func fields(of action: String) -> [Field]? {
        commands.first { $0.action == action }?.fields
    }

    /// The payload the form's fields make, and the fields whose text could not be
    /// read at all (JSON that does not parse). Empty fields are left out.
    static func payload(action: String, form: ConsoleForm) -> (JSONObject, [String: String]) {
        var payload = JSONObject()
        var errors: [String: String] = [:]
        for field in fields(of: action) ?? [] {
            guard let text = form["field." + field.name] else { continue }
            switch field.kind {
            case .text, .textarea, .choice:
                payload.members.append((field.name, .string(text)))
            case .integer:
                payload.members.append((field.name, Int64(text).map(JSONValue.integer) ?? .string(text)))
            case .dateTime:
                let time = ConsoleForm.time(text).map(RFC3339.format) ?? text
                payload.members.append((field.name, .string(time)))
            case .list:
                let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
                payload.members.append((field.name, .array(items.map(JSONValue.string))))
            case .json:
                do {
                    payload.members.append((field.name, try JSONParser.parse(text)))
                } catch {
                    errors[field.name] = "not JSON: \(error)"
                }
            }
        }
        return (payload, errors)
    }

    /// Checks the command exactly as `POST /api/v1/stations/{identity}/commands`
    /// does, through the API's own code.
    static func validate(action: String, payload: JSONObject) async throws -> OutboundCommand {
        var body = JSONObject()
        body.members.append(("action", .string(action)))
        body.members.append(("payload", .object(payload)))
        var writer = JSONWriter()
        writer.value(.object(body))
        let request = Request(
            head: HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/"),
            body: RequestBody(buffer: ByteBuffer(string: writer.string)))
        return try CommandRoutes.command(from: try await AdminBody(request, allowed: ["action", "payload"]))
    }

    /// Which form field an API error is about: `payload.connectorId` and
    /// `payload.csChargingProfiles.chargingSchedule` are the fields `connectorId` and
    /// `csChargingProfiles`; nil for the command as a whole.
    static func formField(ofAPIField field: String?) -> String? {
        guard let field, field.hasPrefix("payload.") else { return nil }
        let rest = field.dropFirst("payload.".count)
        let name = rest.prefix { $0 != "." && $0 != "[" }
        return name.isEmpty ? nil : String(name)
    }
}
