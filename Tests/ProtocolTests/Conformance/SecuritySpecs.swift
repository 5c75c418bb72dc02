// The messages of the OCPP 1.6 security whitepaper ("Improved security for OCPP 1.6-J"),
// from its JSON schemas (urn:OCPP:Cp:1.6:2020:3).

import OCPP

enum SecuritySpecs {
    // MARK: Types shared by several messages

    static let certificateUse = FieldType.enumeration([
        "CentralSystemRootCertificate", "ManufacturerRootCertificate",
    ])

    static let certificateHashData = FieldType.object([
        .required("hashAlgorithm", .enumeration(["SHA256", "SHA384", "SHA512"])),
        .required("issuerNameHash", .string(maxLength: 128)),
        .required("issuerKeyHash", .string(maxLength: 128)),
        .required("serialNumber", .string(maxLength: 40)),
    ])

    // MARK: Messages

    static let messages: [MessageSpec] = [
        MessageSpec(
            "CertificateSigned", sender: .centralSystem, draft: .draft06,
            request: [.required("certificateChain", .string(maxLength: 10000))],
            response: [.required("status", CoreSpecs.acceptedRejected)]),
        MessageSpec(
            "DeleteCertificate", sender: .centralSystem, draft: .draft06,
            request: [.required("certificateHashData", certificateHashData)],
            response: [.required("status", .enumeration(["Accepted", "Failed", "NotFound"]))]),
        MessageSpec(
            "ExtendedTriggerMessage", sender: .centralSystem, draft: .draft06,
            request: [
                .required(
                    "requestedMessage",
                    .enumeration([
                        "BootNotification", "LogStatusNotification", "FirmwareStatusNotification", "Heartbeat",
                        "MeterValues", "SignChargePointCertificate", "StatusNotification",
                    ])),
                .optional("connectorId", .integer),
            ],
            response: [.required("status", .enumeration(["Accepted", "Rejected", "NotImplemented"]))]),
        MessageSpec(
            "GetInstalledCertificateIds", sender: .centralSystem, draft: .draft06,
            request: [.required("certificateType", certificateUse)],
            response: [
                .optional("certificateHashData", .array(of: certificateHashData, minItems: 1)),
                .required("status", .enumeration(["Accepted", "NotFound"])),
            ]),
        MessageSpec(
            "GetLog", sender: .centralSystem, draft: .draft06,
            request: [
                .required(
                    "log",
                    .object([
                        .required("remoteLocation", .string(maxLength: 512)),
                        .optional("oldestTimestamp", .dateTime),
                        .optional("latestTimestamp", .dateTime),
                    ])),
                .required("logType", .enumeration(["DiagnosticsLog", "SecurityLog"])),
                .required("requestId", .integer),
                .optional("retries", .integer),
                .optional("retryInterval", .integer),
            ],
            response: [
                .required("status", .enumeration(["Accepted", "Rejected", "AcceptedCanceled"])),
                .optional("filename", .string(maxLength: 255)),
            ]),
        MessageSpec(
            "InstallCertificate", sender: .centralSystem, draft: .draft06,
            request: [
                .required("certificateType", certificateUse),
                .required("certificate", .string(maxLength: 5500)),
            ],
            response: [.required("status", .enumeration(["Accepted", "Failed", "Rejected"]))]),
        MessageSpec(
            "LogStatusNotification", sender: .chargePoint, draft: .draft06,
            request: [
                .required(
                    "status",
                    .enumeration([
                        "BadMessage", "Idle", "NotSupportedOperation", "PermissionDenied", "Uploaded",
                        "UploadFailure", "Uploading",
                    ])),
                .optional("requestId", .boundedInteger(.int32)),
            ],
            response: []),
        MessageSpec(
            "SecurityEventNotification", sender: .chargePoint, draft: .draft06,
            request: [
                .required("type", .string(maxLength: 50)),
                .required("timestamp", .dateTime),
                .optional("techInfo", .string(maxLength: 255)),
            ],
            response: []),
        MessageSpec(
            "SignCertificate", sender: .chargePoint, draft: .draft06,
            request: [.required("csr", .string(maxLength: 5500))],
            response: [.required("status", CoreSpecs.acceptedRejected)]),
        MessageSpec(
            "SignedFirmwareStatusNotification", sender: .chargePoint, draft: .draft06,
            request: [
                .required(
                    "status",
                    .enumeration([
                        "Downloaded", "DownloadFailed", "Downloading", "DownloadScheduled", "DownloadPaused", "Idle",
                        "InstallationFailed", "Installing", "Installed", "InstallRebooting", "InstallScheduled",
                        "InstallVerificationFailed", "InvalidSignature", "SignatureVerified",
                    ])),
                .optional("requestId", .boundedInteger(.int32)),
            ],
            response: []),
        MessageSpec(
            "SignedUpdateFirmware", sender: .centralSystem, draft: .draft06,
            request: [
                .optional("retries", .integer),
                .optional("retryInterval", .integer),
                .required("requestId", .integer),
                .required(
                    "firmware",
                    .object([
                        .required("location", .string(maxLength: 512)),
                        .required("retrieveDateTime", .dateTime),
                        .optional("installDateTime", .dateTime),
                        .required("signingCertificate", .string(maxLength: 5500)),
                        .required("signature", .string(maxLength: 800)),
                    ])),
            ],
            response: [
                .required(
                    "status",
                    .enumeration([
                        "Accepted", "Rejected", "AcceptedCanceled", "InvalidCertificate", "RevokedCertificate",
                    ]
                    ))
            ]),
    ]
}

// MARK: - Hand-written examples

extension SecuritySpecs {
    static let pem = "-----BEGIN CERTIFICATE-----\\nMIIBszCCAVmgAwIBAgIUQ2E=\\n-----END CERTIFICATE-----\\n"

    static let examples: [PayloadExample] = [
        .accepted(
            "startup event", .securityEventNotification, .request,
            #"{"type":"StartupOfTheDevice","timestamp":"2024-05-01T10:00:00Z","techInfo":"cold boot"}"#),
        .accepted(
            "vendor-specific event type", .securityEventNotification, .request,
            #"{"type":"com.example.CabinetOpened","timestamp":"2024-05-01T10:00:00Z"}"#),
        .refused(
            "timestamp missing", .securityEventNotification, .request, #"{"type":"StartupOfTheDevice"}"#,
            .occurenceConstraintViolation, at: "timestamp"),
        .accepted("empty response", .securityEventNotification, .response, "{}"),
        .accepted("certificate signing request", .signCertificate, .request, #"{"csr":"\#(pem)"}"#),
        .accepted("accepted", .signCertificate, .response, #"{"status":"Accepted"}"#),
        .accepted("signed chain", .certificateSigned, .request, #"{"certificateChain":"\#(pem)\#(pem)"}"#),
        .refused(
            "chain of 10001 characters", .certificateSigned, .request,
            #"{"certificateChain":"\#(String(repeating: "A", count: 10001))"}"#,
            .propertyConstraintViolation, at: "certificateChain"),
        .accepted(
            "sign a new charge point certificate", .extendedTriggerMessage, .request,
            #"{"requestedMessage":"SignChargePointCertificate"}"#),
        .accepted(
            "log status of connector 0", .extendedTriggerMessage, .request,
            #"{"requestedMessage":"LogStatusNotification","connectorId":0}"#),
        .refused(
            "DiagnosticsStatusNotification is not in the whitepaper's list", .extendedTriggerMessage, .request,
            #"{"requestedMessage":"DiagnosticsStatusNotification"}"#,
            .propertyConstraintViolation, at: "requestedMessage"),
        .accepted(
            "root certificates", .getInstalledCertificateIds, .request,
            #"{"certificateType":"CentralSystemRootCertificate"}"#),
        .accepted(
            "two installed certificates", .getInstalledCertificateIds, .response,
            #"""
            {"status":"Accepted","certificateHashData":[
              {"hashAlgorithm":"SHA256","issuerNameHash":"7e0a2f1c9b","issuerKeyHash":"a1b2c3d4e5","serialNumber":"1f2e3d"},
              {"hashAlgorithm":"SHA384","issuerNameHash":"9c8b7a","issuerKeyHash":"0f0e0d","serialNumber":"42"}]}
            """#),
        .accepted("none installed", .getInstalledCertificateIds, .response, #"{"status":"NotFound"}"#),
        .refused(
            "empty hash list", .getInstalledCertificateIds, .response,
            #"{"status":"Accepted","certificateHashData":[]}"#,
            .occurenceConstraintViolation, at: "certificateHashData"),
        .accepted(
            "delete by hash", .deleteCertificate, .request,
            #"{"certificateHashData":{"hashAlgorithm":"SHA256","issuerNameHash":"7e0a2f1c9b","issuerKeyHash":"a1b2c3d4e5","serialNumber":"1f2e3d"}}"#
        ),
        .refused(
            "SHA-1 hash", .deleteCertificate, .request,
            #"{"certificateHashData":{"hashAlgorithm":"SHA1","issuerNameHash":"7e0a","issuerKeyHash":"a1b2","serialNumber":"1f"}}"#,
            .propertyConstraintViolation, at: "certificateHashData.hashAlgorithm"),
        .refused(
            "serial number missing", .deleteCertificate, .request,
            #"{"certificateHashData":{"hashAlgorithm":"SHA256","issuerNameHash":"7e0a","issuerKeyHash":"a1b2"}}"#,
            .occurenceConstraintViolation, at: "certificateHashData.serialNumber"),
        .accepted("not found", .deleteCertificate, .response, #"{"status":"NotFound"}"#),
        .accepted(
            "security log of one day", .getLog, .request,
            #"""
            {"logType":"SecurityLog","requestId":17,"retries":1,"retryInterval":120,
             "log":{"remoteLocation":"https://logs.example.com/upload","oldestTimestamp":"2024-05-01T00:00:00Z",
                    "latestTimestamp":"2024-05-02T00:00:00Z"}}
            """#),
        .refused(
            "log without remote location", .getLog, .request,
            #"{"logType":"DiagnosticsLog","requestId":17,"log":{"oldestTimestamp":"2024-05-01T00:00:00Z"}}"#,
            .occurenceConstraintViolation, at: "log.remoteLocation"),
        .accepted(
            "accepted with file name", .getLog, .response, #"{"status":"Accepted","filename":"security-17.log"}"#),
        .accepted("uploading", .logStatusNotification, .request, #"{"status":"Uploading","requestId":17}"#),
        .refused(
            "a DiagnosticsStatusNotification status", .logStatusNotification, .request, #"{"status":"UploadFailed"}"#,
            .propertyConstraintViolation, at: "status"),
        .accepted(
            "install a root certificate", .installCertificate, .request,
            #"{"certificateType":"ManufacturerRootCertificate","certificate":"\#(pem)"}"#),
        .accepted("failed", .installCertificate, .response, #"{"status":"Failed"}"#),
        .accepted(
            "signed firmware", .signedUpdateFirmware, .request,
            #"""
            {"requestId":23,"retries":3,"retryInterval":300,"firmware":{"location":"https://firmware.example.com/ng920/6.0.0.bin",
              "retrieveDateTime":"2024-05-03T02:00:00Z","installDateTime":"2024-05-03T03:00:00Z",
              "signingCertificate":"\#(pem)","signature":"MEUCIQDx9c0ZWm6X4mZK5Q=="}}
            """#),
        .refused(
            "firmware without signature", .signedUpdateFirmware, .request,
            #"""
            {"requestId":23,"firmware":{"location":"https://firmware.example.com/ng920/6.0.0.bin",
              "retrieveDateTime":"2024-05-03T02:00:00Z","signingCertificate":"\#(pem)"}}
            """#,
            .occurenceConstraintViolation, at: "firmware.signature"),
        .accepted("invalid certificate", .signedUpdateFirmware, .response, #"{"status":"InvalidCertificate"}"#),
        .accepted(
            "signature verified", .signedFirmwareStatusNotification, .request,
            #"{"status":"SignatureVerified","requestId":23}"#),
        .accepted("empty response", .signedFirmwareStatusNotification, .response, "{}"),
    ]
}
