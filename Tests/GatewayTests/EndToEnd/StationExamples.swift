import OCPP
import Shared

/// A valid CALL payload for every charge-point-initiated action.
enum StationExamples {
    static let now = "2024-05-01T10:00:00.000Z"

    static let calls: [(action: OCPPAction, payload: JSONValue)] = [
        (.authorize, ["idTag": "TAG-1"]),
        (.bootNotification, ["chargePointVendor": "Test", "chargePointModel": "E2E"]),
        (.dataTransfer, ["vendorId": "com.example", "messageId": "hello", "data": "{}"]),
        (.diagnosticsStatusNotification, ["status": "Uploaded"]),
        (.firmwareStatusNotification, ["status": "Installed"]),
        (.heartbeat, [:]),
        (
            .meterValues,
            [
                "connectorId": 1, "transactionId": 1,
                "meterValue": [["timestamp": .string(now), "sampledValue": [["value": "1234.5"]]]],
            ]
        ),
        (.startTransaction, ["connectorId": 1, "idTag": "TAG-1", "meterStart": 100, "timestamp": .string(now)]),
        (
            .statusNotification,
            ["connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": .string(now)]
        ),
        (.stopTransaction, ["transactionId": 1, "idTag": "TAG-1", "meterStop": 900, "timestamp": .string(now)]),
        (.securityEventNotification, ["type": "StartupOfTheDevice", "timestamp": .string(now)]),
        (.signCertificate, ["csr": "-----BEGIN CERTIFICATE REQUEST-----"]),
        (.signedFirmwareStatusNotification, ["status": "Downloaded", "requestId": 7]),
        (.logStatusNotification, ["status": "Uploaded", "requestId": 7]),
    ]
}
