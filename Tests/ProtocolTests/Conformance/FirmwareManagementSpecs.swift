// The Firmware Management profile, from the OCPP 1.6 JSON schemas.

import OCPP

enum FirmwareManagementSpecs {
    static let messages: [MessageSpec] = [
        MessageSpec(
            "DiagnosticsStatusNotification", sender: .chargePoint,
            request: [.required("status", .enumeration(["Idle", "Uploaded", "UploadFailed", "Uploading"]))],
            response: []),
        MessageSpec(
            "FirmwareStatusNotification", sender: .chargePoint,
            request: [
                .required(
                    "status",
                    .enumeration([
                        "Downloaded", "DownloadFailed", "Downloading", "Idle", "InstallationFailed", "Installing",
                        "Installed",
                    ]))
            ],
            response: []),
        MessageSpec(
            "GetDiagnostics", sender: .centralSystem,
            request: [
                .required("location", .uri),
                .optional("retries", .integer),
                .optional("retryInterval", .integer),
                .optional("startTime", .dateTime),
                .optional("stopTime", .dateTime),
            ],
            response: [.optional("fileName", .string(maxLength: 255))]),
        MessageSpec(
            "UpdateFirmware", sender: .centralSystem,
            request: [
                .required("location", .uri),
                .optional("retries", .integer),
                .required("retrieveDate", .dateTime),
                .optional("retryInterval", .integer),
            ],
            response: []),
    ]
}

// MARK: - Hand-written examples

extension FirmwareManagementSpecs {
    static let examples: [PayloadExample] = [
        .accepted(
            "upload diagnostics of one day", .getDiagnostics, .request,
            #"""
            {"location":"ftp://diag:secret@ftp.example.com/uploads/","retries":3,"retryInterval":60,
             "startTime":"2024-05-01T00:00:00Z","stopTime":"2024-05-02T00:00:00Z"}
            """#),
        .refused(
            "location missing", .getDiagnostics, .request, #"{"retries":3}"#,
            .occurenceConstraintViolation, at: "location"),
        .refused(
            "retries as a string", .getDiagnostics, .request, #"{"location":"ftp://ftp.example.com/","retries":"3"}"#,
            .typeConstraintViolation, at: "retries"),
        .accepted("file name", .getDiagnostics, .response, #"{"fileName":"diag-ACE0123456-20240501.tar.gz"}"#),
        .accepted("nothing to upload", .getDiagnostics, .response, "{}"),
        .accepted(
            "firmware download", .updateFirmware, .request,
            #"{"location":"https://firmware.example.com/ng920/5.9.0.bin","retries":2,"retrieveDate":"2024-05-03T02:00:00Z","retryInterval":300}"#
        ),
        .refused(
            "retrieveDate missing", .updateFirmware, .request,
            #"{"location":"https://firmware.example.com/ng920/5.9.0.bin"}"#,
            .occurenceConstraintViolation, at: "retrieveDate"),
        .refused(
            "retrieveDate as a Unix time", .updateFirmware, .request,
            #"{"location":"https://firmware.example.com/ng920/5.9.0.bin","retrieveDate":1714701600}"#,
            .typeConstraintViolation, at: "retrieveDate"),
        .accepted("empty response", .updateFirmware, .response, "{}"),
        .accepted("installed", .firmwareStatusNotification, .request, #"{"status":"Installed"}"#),
        .refused(
            "a status of the signed-firmware flow", .firmwareStatusNotification, .request,
            #"{"status":"SignatureVerified"}"#, .propertyConstraintViolation, at: "status"),
        .accepted("empty response", .firmwareStatusNotification, .response, "{}"),
        .accepted("uploaded", .diagnosticsStatusNotification, .request, #"{"status":"Uploaded"}"#),
        .refused(
            "a status of LogStatusNotification", .diagnosticsStatusNotification, .request,
            #"{"status":"UploadFailure"}"#, .propertyConstraintViolation, at: "status"),
        .refused(
            "member in the empty response", .diagnosticsStatusNotification, .response, #"{"status":"Accepted"}"#,
            .formationViolation, at: "status"),
    ]
}
