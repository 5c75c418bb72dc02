// The Remote Trigger profile, from the OCPP 1.6 JSON schemas.

import OCPP

enum RemoteTriggerSpecs {
    static let messages: [MessageSpec] = [
        MessageSpec(
            "TriggerMessage", sender: .centralSystem,
            request: [
                .required(
                    "requestedMessage",
                    .enumeration([
                        "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
                        "Heartbeat", "MeterValues", "StatusNotification",
                    ])),
                .optional("connectorId", .integer),
            ],
            response: [.required("status", .enumeration(["Accepted", "Rejected", "NotImplemented"]))])
    ]
}

// MARK: - Hand-written examples

extension RemoteTriggerSpecs {
    static let examples: [PayloadExample] = [
        .accepted(
            "meter values of connector 1", .triggerMessage, .request,
            #"{"requestedMessage":"MeterValues","connectorId":1}"#),
        .accepted("boot notification", .triggerMessage, .request, #"{"requestedMessage":"BootNotification"}"#),
        .refused(
            "a message only ExtendedTriggerMessage can request", .triggerMessage, .request,
            #"{"requestedMessage":"SignChargePointCertificate"}"#,
            .propertyConstraintViolation, at: "requestedMessage"),
        .refused(
            "requestedMessage missing", .triggerMessage, .request, #"{"connectorId":1}"#,
            .occurenceConstraintViolation, at: "requestedMessage"),
        .accepted("not implemented", .triggerMessage, .response, #"{"status":"NotImplemented"}"#),
    ]
}
