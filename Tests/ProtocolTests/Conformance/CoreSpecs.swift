// The Core profile, from the OCPP 1.6 JSON schemas (`<Action>.json`, `<Action>Response.json`).

import OCPP

enum CoreSpecs {
    // MARK: Types shared by several messages

    static let authorizationStatus = FieldType.enumeration([
        "Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx",
    ])

    /// IdTagInfo (Authorize.conf, StartTransaction.conf, StopTransaction.conf, SendLocalList.req).
    static let idTagInfo = FieldType.object([
        .optional("expiryDate", .dateTime),
        .optional("parentIdTag", .string(maxLength: 20)),
        .required("status", authorizationStatus),
    ])

    /// SampledValue.unit: the schemas' list, with "Hertz" (in the published MeterValues schema).
    static let unitOfMeasure = FieldType.enumeration([
        "Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar", "A", "V", "K",
        "Celcius", "Celsius", "Fahrenheit", "Percent", "Hertz",
    ])

    static let sampledValue = FieldType.object([
        .required("value", .string(maxLength: nil)),
        .optional(
            "context",
            .enumeration([
                "Interruption.Begin", "Interruption.End", "Sample.Clock", "Sample.Periodic",
                "Transaction.Begin", "Transaction.End", "Trigger", "Other",
            ])),
        .optional("format", .enumeration(["Raw", "SignedData"])),
        .optional(
            "measurand",
            .enumeration([
                "Energy.Active.Export.Register", "Energy.Active.Import.Register",
                "Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
                "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
                "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval",
                "Power.Active.Export", "Power.Active.Import", "Power.Offered",
                "Power.Reactive.Export", "Power.Reactive.Import", "Power.Factor",
                "Current.Import", "Current.Export", "Current.Offered",
                "Voltage", "Frequency", "Temperature", "SoC", "RPM",
            ])),
        .optional(
            "phase",
            .enumeration(["L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1"])),
        .optional("location", .enumeration(["Cable", "EV", "Inlet", "Outlet", "Body"])),
        .optional("unit", unitOfMeasure),
    ])

    /// MeterValues.req `meterValue` items: at least one sampled value.
    static let meterValue = FieldType.object([
        .required("timestamp", .dateTime),
        .required("sampledValue", .array(of: sampledValue, minItems: 1)),
    ])

    /// StopTransaction.req `transactionData` items: the schema gives `sampledValue` no minItems here.
    static let transactionData = FieldType.object([
        .required("timestamp", .dateTime),
        .required("sampledValue", .array(of: sampledValue, minItems: 0)),
    ])

    static let acceptedRejected = FieldType.enumeration(["Accepted", "Rejected"])

    // MARK: Messages

    static let messages: [MessageSpec] = [
        MessageSpec(
            "Authorize", sender: .chargePoint,
            request: [.required("idTag", .string(maxLength: 20))],
            response: [.required("idTagInfo", idTagInfo)]),
        MessageSpec(
            "BootNotification", sender: .chargePoint,
            request: [
                .required("chargePointVendor", .string(maxLength: 20)),
                .required("chargePointModel", .string(maxLength: 20)),
                .optional("chargePointSerialNumber", .string(maxLength: 25)),
                .optional("chargeBoxSerialNumber", .string(maxLength: 25)),
                .optional("firmwareVersion", .string(maxLength: 50)),
                .optional("iccid", .string(maxLength: 20)),
                .optional("imsi", .string(maxLength: 20)),
                .optional("meterType", .string(maxLength: 25)),
                .optional("meterSerialNumber", .string(maxLength: 25)),
            ],
            response: [
                .required("status", .enumeration(["Accepted", "Pending", "Rejected"])),
                .required("currentTime", .dateTime),
                .required("interval", .integer),
            ]),
        MessageSpec(
            "ChangeAvailability", sender: .centralSystem,
            request: [
                .required("connectorId", .integer),
                .required("type", .enumeration(["Inoperative", "Operative"])),
            ],
            response: [.required("status", .enumeration(["Accepted", "Rejected", "Scheduled"]))]),
        MessageSpec(
            "ChangeConfiguration", sender: .centralSystem,
            request: [
                .required("key", .string(maxLength: 50)),
                .required("value", .string(maxLength: 500)),
            ],
            response: [
                .required("status", .enumeration(["Accepted", "Rejected", "RebootRequired", "NotSupported"]))
            ]),
        MessageSpec(
            "ClearCache", sender: .centralSystem,
            request: [],
            response: [.required("status", acceptedRejected)]),
        MessageSpec(
            "DataTransfer", sender: .either,
            request: [
                .required("vendorId", .string(maxLength: 255)),
                .optional("messageId", .string(maxLength: 50)),
                .optional("data", .string(maxLength: nil)),
            ],
            response: [
                .required(
                    "status", .enumeration(["Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"])),
                .optional("data", .string(maxLength: nil)),
            ]),
        MessageSpec(
            "GetConfiguration", sender: .centralSystem,
            request: [.optional("key", .array(of: .string(maxLength: 50), minItems: 0))],
            response: [
                .optional(
                    "configurationKey",
                    .array(
                        of: .object([
                            .required("key", .string(maxLength: 50)),
                            .required("readonly", .boolean),
                            .optional("value", .string(maxLength: 500)),
                        ]),
                        minItems: 0)),
                .optional("unknownKey", .array(of: .string(maxLength: 50), minItems: 0)),
            ]),
        MessageSpec(
            "Heartbeat", sender: .chargePoint,
            request: [],
            response: [.required("currentTime", .dateTime)]),
        MessageSpec(
            "MeterValues", sender: .chargePoint,
            request: [
                .required("connectorId", .boundedInteger(.connectorID)),
                .optional("transactionId", .boundedInteger(.int32)),
                .required("meterValue", .array(of: meterValue, minItems: 1)),
            ],
            response: []),
        MessageSpec(
            "RemoteStartTransaction", sender: .centralSystem,
            request: [
                .optional("connectorId", .integer),
                .required("idTag", .string(maxLength: 20)),
                .optional("chargingProfile", SmartChargingSpecs.chargingProfile),
            ],
            response: [.required("status", acceptedRejected)]),
        MessageSpec(
            "RemoteStopTransaction", sender: .centralSystem,
            request: [.required("transactionId", .integer)],
            response: [.required("status", acceptedRejected)]),
        MessageSpec(
            "Reset", sender: .centralSystem,
            request: [.required("type", .enumeration(["Hard", "Soft"]))],
            response: [.required("status", acceptedRejected)]),
        MessageSpec(
            "StartTransaction", sender: .chargePoint,
            request: [
                .required("connectorId", .boundedInteger(.transactionConnectorID)),
                .required("idTag", .string(maxLength: 20)),
                .required("meterStart", .integer),
                .optional("reservationId", .boundedInteger(.int32)),
                .required("timestamp", .dateTime),
            ],
            response: [
                .required("idTagInfo", idTagInfo),
                .required("transactionId", .integer),
            ]),
        MessageSpec(
            "StatusNotification", sender: .chargePoint,
            request: [
                .required("connectorId", .boundedInteger(.connectorID)),
                .required(
                    "errorCode",
                    .enumeration([
                        "ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature",
                        "InternalError", "LocalListConflict", "NoError", "OtherError", "OverCurrentFailure",
                        "PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure", "ResetFailure",
                        "UnderVoltage", "OverVoltage", "WeakSignal",
                    ])),
                .optional("info", .string(maxLength: 50)),
                .required(
                    "status",
                    .enumeration([
                        "Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing",
                        "Reserved", "Unavailable", "Faulted",
                    ])),
                .optional("timestamp", .dateTime),
                .optional("vendorId", .string(maxLength: 255)),
                .optional("vendorErrorCode", .string(maxLength: 50)),
            ],
            response: []),
        MessageSpec(
            "StopTransaction", sender: .chargePoint,
            request: [
                .optional("idTag", .string(maxLength: 20)),
                .required("meterStop", .integer),
                .required("timestamp", .dateTime),
                .required("transactionId", .boundedInteger(.int32)),
                .optional(
                    "reason",
                    .enumeration([
                        "EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other", "PowerLoss", "Reboot",
                        "Remote", "SoftReset", "UnlockCommand", "DeAuthorized",
                    ])),
                .optional("transactionData", .array(of: transactionData, minItems: 0)),
            ],
            response: [.optional("idTagInfo", idTagInfo)]),
        MessageSpec(
            "UnlockConnector", sender: .centralSystem,
            request: [.required("connectorId", .integer)],
            response: [.required("status", .enumeration(["Unlocked", "UnlockFailed", "NotSupported"]))]),
    ]
}

// MARK: - Hand-written examples

extension CoreSpecs {
    static let examples: [PayloadExample] = [
        // Authorize
        .accepted("RFID card", .authorize, .request, #"{"idTag":"04A2B3C4D5E6F7"}"#),
        .accepted(
            "accepted with expiry and parent", .authorize, .response,
            #"{"idTagInfo":{"status":"Accepted","expiryDate":"2025-12-31T23:59:59Z","parentIdTag":"FLEET-042"}}"#),
        .refused(
            "21-character idTag", .authorize, .request, #"{"idTag":"123456789012345678901"}"#,
            .propertyConstraintViolation, at: "idTag"),
        .refused(
            "idTagInfo without status", .authorize, .response, #"{"idTagInfo":{"parentIdTag":"FLEET-042"}}"#,
            .occurenceConstraintViolation, at: "idTagInfo.status"),
        .refused(
            "lower-case status", .authorize, .response, #"{"idTagInfo":{"status":"accepted"}}"#,
            .propertyConstraintViolation, at: "idTagInfo.status"),

        // BootNotification
        .accepted(
            "wallbox with modem", .bootNotification, .request,
            #"""
            {"chargePointVendor":"Alfen BV","chargePointModel":"NG920-60503","chargePointSerialNumber":"ACE0123456",
             "chargeBoxSerialNumber":"ACE0123456-01","firmwareVersion":"5.8.1-4123","iccid":"89310410106543789301",
             "imsi":"204080123456789","meterType":"Alfen 3-phase MID","meterSerialNumber":"MID-2024-000981"}
            """#),
        .refused(
            "26-character chargePointSerialNumber (a known charger bug)", .bootNotification, .request,
            #"{"chargePointVendor":"Schneider Electric","chargePointModel":"EVlink","chargePointSerialNumber":"3N182720082F1S1B7551700016"}"#,
            .propertyConstraintViolation, at: "chargePointSerialNumber"),
        .refused(
            "vendor missing", .bootNotification, .request, #"{"chargePointModel":"NG920"}"#,
            .occurenceConstraintViolation, at: "chargePointVendor"),
        .accepted(
            "vendor field and null optional, lenient", .bootNotification, .request,
            #"{"chargePointVendor":"ABB","chargePointModel":"Terra AC","firmwareVersion":null,"vendorInfo":{"hw":"2.1"}}"#,
            options: .tolerant, decodesAs: #"{"chargePointVendor":"ABB","chargePointModel":"Terra AC"}"#),
        .refused(
            "vendor field, strict", .bootNotification, .request,
            #"{"chargePointVendor":"ABB","chargePointModel":"Terra AC","vendorInfo":{"hw":"2.1"}}"#,
            .formationViolation, at: "vendorInfo"),
        .accepted(
            "accepted, date without fraction", .bootNotification, .response,
            #"{"status":"Accepted","currentTime":"2024-05-01T10:00:00Z","interval":300}"#),
        .accepted(
            "pending, date with offset", .bootNotification, .response,
            #"{"status":"Pending","currentTime":"2024-05-01T12:00:00.250+02:00","interval":60}"#),
        .refused(
            "interval as a string", .bootNotification, .response,
            #"{"status":"Accepted","currentTime":"2024-05-01T10:00:00Z","interval":"300"}"#,
            .typeConstraintViolation, at: "interval"),
        .refused(
            "interval with a fraction", .bootNotification, .response,
            #"{"status":"Accepted","currentTime":"2024-05-01T10:00:00Z","interval":300.5}"#,
            .typeConstraintViolation, at: "interval"),
        .refused(
            "local time without offset", .bootNotification, .response,
            #"{"status":"Accepted","currentTime":"2024-05-01T10:00:00","interval":300}"#,
            .propertyConstraintViolation, at: "currentTime"),

        // ChangeAvailability, ChangeConfiguration, ClearCache
        .accepted(
            "whole charge point inoperative", .changeAvailability, .request,
            #"{"connectorId":0,"type":"Inoperative"}"#),
        .accepted("scheduled", .changeAvailability, .response, #"{"status":"Scheduled"}"#),
        .accepted(
            "heartbeat interval", .changeConfiguration, .request, #"{"key":"HeartbeatInterval","value":"300"}"#),
        .refused(
            "value as a JSON number", .changeConfiguration, .request, #"{"key":"HeartbeatInterval","value":300}"#,
            .typeConstraintViolation, at: "value"),
        .refused(
            "value as a JSON boolean", .changeConfiguration, .request,
            #"{"key":"AuthorizeRemoteTxRequests","value":true}"#, .typeConstraintViolation, at: "value"),
        .accepted("reboot required", .changeConfiguration, .response, #"{"status":"RebootRequired"}"#),
        .accepted("empty request", .clearCache, .request, "{}"),
        .refused(
            "member in an empty-schema request", .clearCache, .request, #"{"connectorId":1}"#,
            .formationViolation, at: "connectorId"),

        // DataTransfer
        .accepted(
            "vendor data as a JSON string", .dataTransfer, .request,
            #"{"vendorId":"com.example.evse","messageId":"SetLedColour","data":"{\"colour\":\"green\"}"}"#),
        .refused(
            "data as an object", .dataTransfer, .request, #"{"vendorId":"com.example.evse","data":{"colour":"green"}}"#,
            .typeConstraintViolation, at: "data"),
        .accepted("unknown vendor", .dataTransfer, .response, #"{"status":"UnknownVendorId"}"#),

        // GetConfiguration
        .accepted(
            "two keys", .getConfiguration, .request, #"{"key":["HeartbeatInterval","MeterValueSampleInterval"]}"#),
        .accepted("all keys", .getConfiguration, .request, "{}"),
        .accepted(
            "known and unknown keys", .getConfiguration, .response,
            #"""
            {"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"},
             {"key":"NumberOfConnectors","readonly":true,"value":"2"},{"key":"AuthorizationKey","readonly":false}],
             "unknownKey":["VendorSpecificKey"]}
            """#),
        .refused(
            "readonly missing on the second key", .getConfiguration, .response,
            #"{"configurationKey":[{"key":"HeartbeatInterval","readonly":false},{"key":"NumberOfConnectors","value":"2"}]}"#,
            .occurenceConstraintViolation, at: "configurationKey[1].readonly"),
        .refused(
            "readonly as a string", .getConfiguration, .response,
            #"{"configurationKey":[{"key":"HeartbeatInterval","readonly":"false"}]}"#,
            .typeConstraintViolation, at: "configurationKey[0].readonly"),
        .refused(
            "51-character unknown key", .getConfiguration, .response,
            #"{"unknownKey":["ok","\#(String(repeating: "K", count: 51))"]}"#,
            .propertyConstraintViolation, at: "unknownKey[1]"),

        // Heartbeat
        .accepted("empty request", .heartbeat, .request, "{}"),
        .accepted("current time", .heartbeat, .response, #"{"currentTime":"2024-05-01T10:00:00.123Z"}"#),
        .refused(
            "impossible date", .heartbeat, .response, #"{"currentTime":"2024-02-30T10:00:00Z"}"#,
            .propertyConstraintViolation, at: "currentTime"),

        // MeterValues
        .accepted(
            "three sampled values during a transaction", .meterValues, .request,
            #"""
            {"connectorId":1,"transactionId":8812,"meterValue":[{"timestamp":"2024-05-01T10:15:00Z","sampledValue":[
              {"value":"15234.7","context":"Sample.Periodic","format":"Raw","measurand":"Energy.Active.Import.Register","location":"Outlet","unit":"Wh"},
              {"value":"7.4","context":"Sample.Periodic","measurand":"Power.Active.Import","phase":"L1-N","unit":"kW"},
              {"value":"64","context":"Sample.Periodic","measurand":"SoC","location":"EV","unit":"Percent"}]}]}
            """#),
        .accepted(
            "clock-aligned values, both temperature spellings", .meterValues, .request,
            #"""
            {"connectorId":0,"meterValue":[
              {"timestamp":"2024-05-01T10:00:00Z","sampledValue":[{"value":"31.5","measurand":"Temperature","location":"Body","unit":"Celsius"}]},
              {"timestamp":"2024-05-01T10:15:00Z","sampledValue":[{"value":"31.0","measurand":"Temperature","location":"Body","unit":"Celcius"}]}]}
            """#),
        .accepted(
            "value only", .meterValues, .request,
            #"{"connectorId":1,"meterValue":[{"timestamp":"2024-05-01T10:15:00Z","sampledValue":[{"value":"0"}]}]}"#),
        .refused(
            "measurand without .Register", .meterValues, .request,
            #"""
            {"connectorId":1,"meterValue":[{"timestamp":"2024-05-01T10:15:00Z","sampledValue":[
              {"value":"15234"},{"value":"7.4","measurand":"Power.Active.Import"},{"value":"15234","measurand":"Energy.Active.Import"}]}]}
            """#,
            .propertyConstraintViolation, at: "meterValue[0].sampledValue[2].measurand"),
        .refused(
            "value as a JSON number", .meterValues, .request,
            #"{"connectorId":1,"meterValue":[{"timestamp":"2024-05-01T10:15:00Z","sampledValue":[{"value":15234.7}]}]}"#,
            .typeConstraintViolation, at: "meterValue[0].sampledValue[0].value"),
        .refused(
            "no meter value", .meterValues, .request, #"{"connectorId":1,"meterValue":[]}"#,
            .occurenceConstraintViolation, at: "meterValue"),
        .refused(
            "no sampled value in the second meter value", .meterValues, .request,
            #"""
            {"connectorId":1,"meterValue":[{"timestamp":"2024-05-01T10:15:00Z","sampledValue":[{"value":"1"}]},
              {"timestamp":"2024-05-01T10:30:00Z","sampledValue":[]}]}
            """#,
            .occurenceConstraintViolation, at: "meterValue[1].sampledValue"),
        .refused(
            "meter value without timestamp", .meterValues, .request,
            #"{"connectorId":1,"meterValue":[{"sampledValue":[{"value":"1"}]}]}"#,
            .occurenceConstraintViolation, at: "meterValue[0].timestamp"),
        .refused(
            "unit Hz", .meterValues, .request,
            #"{"connectorId":1,"meterValue":[{"timestamp":"2024-05-01T10:15:00Z","sampledValue":[{"value":"50","measurand":"Frequency","unit":"Hz"}]}]}"#,
            .propertyConstraintViolation, at: "meterValue[0].sampledValue[0].unit"),
        .accepted("empty response", .meterValues, .response, "{}"),

        // RemoteStartTransaction, RemoteStopTransaction
        .accepted(
            "with a transaction profile", .remoteStartTransaction, .request,
            #"""
            {"connectorId":1,"idTag":"APP-USER-77","chargingProfile":{"chargingProfileId":1,"stackLevel":0,
              "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative",
              "chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16},
              {"startPeriod":3600,"limit":10.5,"numberPhases":1}]}}}
            """#),
        .accepted("idTag only", .remoteStartTransaction, .request, #"{"idTag":"APP-USER-77"}"#),
        .refused(
            "profile without schedule", .remoteStartTransaction, .request,
            #"""
            {"idTag":"APP-USER-77","chargingProfile":{"chargingProfileId":1,"stackLevel":0,
              "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative"}}
            """#,
            .occurenceConstraintViolation, at: "chargingProfile.chargingSchedule"),
        .refused(
            "unknown member in a schedule period", .remoteStartTransaction, .request,
            #"""
            {"idTag":"APP-USER-77","chargingProfile":{"chargingProfileId":1,"stackLevel":0,
              "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative",
              "chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16,"phaseToUse":1}]}}}
            """#,
            .formationViolation, at: "chargingProfile.chargingSchedule.chargingSchedulePeriod[0].phaseToUse"),
        .accepted("rejected", .remoteStartTransaction, .response, #"{"status":"Rejected"}"#),
        .accepted("stop", .remoteStopTransaction, .request, #"{"transactionId":8812}"#),
        .refused(
            "transaction id as a string", .remoteStopTransaction, .request, #"{"transactionId":"8812"}"#,
            .typeConstraintViolation, at: "transactionId"),

        // Reset, UnlockConnector
        .accepted("soft", .reset, .request, #"{"type":"Soft"}"#),
        .refused("lower-case type", .reset, .request, #"{"type":"soft"}"#, .propertyConstraintViolation, at: "type"),
        .accepted("unlock", .unlockConnector, .request, #"{"connectorId":2}"#),
        .accepted("unlocked", .unlockConnector, .response, #"{"status":"Unlocked"}"#),
        .refused(
            "OCPP 2.0 status", .unlockConnector, .response, #"{"status":"UnlockCommandRejected"}"#,
            .propertyConstraintViolation, at: "status"),

        // StartTransaction
        .accepted(
            "on a reservation", .startTransaction, .request,
            #"{"connectorId":1,"idTag":"04A2B3C4D5E6F7","meterStart":15234,"reservationId":7,"timestamp":"2024-05-01T10:00:00Z"}"#
        ),
        .refused(
            "meterStart missing", .startTransaction, .request,
            #"{"connectorId":1,"idTag":"04A2B3C4D5E6F7","timestamp":"2024-05-01T10:00:00Z"}"#,
            .occurenceConstraintViolation, at: "meterStart"),
        .refused(
            "meterStart in kWh with a fraction", .startTransaction, .request,
            #"{"connectorId":1,"idTag":"04A2B3C4D5E6F7","meterStart":15.234,"timestamp":"2024-05-01T10:00:00Z"}"#,
            .typeConstraintViolation, at: "meterStart"),
        .accepted(
            "accepted", .startTransaction, .response,
            #"{"idTagInfo":{"status":"Accepted","expiryDate":"2024-05-02T10:00:00Z"},"transactionId":8812}"#),
        .refused(
            "transactionId missing", .startTransaction, .response, #"{"idTagInfo":{"status":"Accepted"}}"#,
            .occurenceConstraintViolation, at: "transactionId"),

        // StatusNotification
        .accepted(
            "fault with vendor details", .statusNotification, .request,
            #"""
            {"connectorId":1,"errorCode":"GroundFailure","info":"RCD tripped","status":"Faulted",
             "timestamp":"2024-05-01T10:00:00Z","vendorId":"com.example.evse","vendorErrorCode":"E-RCD-30"}
            """#),
        .accepted(
            "suspended by the EVSE", .statusNotification, .request,
            #"{"connectorId":1,"errorCode":"NoError","status":"SuspendedEVSE"}"#),
        .refused(
            "OCPP 1.5 status", .statusNotification, .request,
            #"{"connectorId":1,"errorCode":"NoError","status":"Occupied"}"#, .propertyConstraintViolation, at: "status"),
        .refused(
            "errorCode missing", .statusNotification, .request, #"{"connectorId":1,"status":"Available"}"#,
            .occurenceConstraintViolation, at: "errorCode"),
        .accepted("empty response", .statusNotification, .response, "{}"),

        // StopTransaction
        .accepted(
            "with transaction data", .stopTransaction, .request,
            #"""
            {"idTag":"04A2B3C4D5E6F7","meterStop":27841,"timestamp":"2024-05-01T11:42:10Z","transactionId":8812,
             "reason":"EVDisconnected","transactionData":[
               {"timestamp":"2024-05-01T10:00:00Z","sampledValue":[{"value":"15234","context":"Transaction.Begin","measurand":"Energy.Active.Import.Register","unit":"Wh"}]},
               {"timestamp":"2024-05-01T11:42:10Z","sampledValue":[{"value":"27841","context":"Transaction.End","measurand":"Energy.Active.Import.Register","unit":"Wh"},
                 {"value":"0.0","context":"Transaction.End","measurand":"Current.Import","phase":"L1","unit":"A"}]}]}
            """#),
        .accepted(
            "deauthorized", .stopTransaction, .request,
            #"{"meterStop":27841,"timestamp":"2024-05-01T11:42:10Z","transactionId":8812,"reason":"DeAuthorized"}"#),
        .refused(
            "reason spelled Deauthorized", .stopTransaction, .request,
            #"{"meterStop":27841,"timestamp":"2024-05-01T11:42:10Z","transactionId":8812,"reason":"Deauthorized"}"#,
            .propertyConstraintViolation, at: "reason"),
        .refused(
            "transaction data entry without timestamp", .stopTransaction, .request,
            #"""
            {"meterStop":27841,"timestamp":"2024-05-01T11:42:10Z","transactionId":8812,"transactionData":[
              {"timestamp":"2024-05-01T10:00:00Z","sampledValue":[{"value":"15234"}]},{"sampledValue":[{"value":"27841"}]}]}
            """#,
            .occurenceConstraintViolation, at: "transactionData[1].timestamp"),
        .refused(
            "bad context deep in transaction data", .stopTransaction, .request,
            #"""
            {"meterStop":27841,"timestamp":"2024-05-01T11:42:10Z","transactionId":8812,"transactionData":[
              {"timestamp":"2024-05-01T10:00:00Z","sampledValue":[{"value":"15234"},{"value":"1","context":"Sample.Hourly"}]}]}
            """#,
            .propertyConstraintViolation, at: "transactionData[0].sampledValue[1].context"),
        .accepted("empty response", .stopTransaction, .response, "{}"),
        .accepted("blocked", .stopTransaction, .response, #"{"idTagInfo":{"status":"Blocked"}}"#),
    ]
}
