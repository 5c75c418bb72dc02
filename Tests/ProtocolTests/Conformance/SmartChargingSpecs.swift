// The Smart Charging profile, from the OCPP 1.6 JSON schemas.

import OCPP

enum SmartChargingSpecs {
    // MARK: Types shared by several messages

    static let chargingProfilePurpose = FieldType.enumeration([
        "ChargePointMaxProfile", "TxDefaultProfile", "TxProfile",
    ])

    static let chargingRateUnit = FieldType.enumeration(["A", "W"])

    static let chargingSchedulePeriod = FieldType.object([
        .required("startPeriod", .integer),
        .required("limit", .number(multipleOf: 0.1)),
        .optional("numberPhases", .integer),
    ])

    /// ChargingSchedule; the schemas give `chargingSchedulePeriod` no minItems.
    static let chargingSchedule = FieldType.object([
        .optional("duration", .integer),
        .optional("startSchedule", .dateTime),
        .required("chargingRateUnit", chargingRateUnit),
        .required("chargingSchedulePeriod", .array(of: chargingSchedulePeriod, minItems: 0)),
        .optional("minChargingRate", .number(multipleOf: 0.1)),
    ])

    /// ChargingProfile (SetChargingProfile.req `csChargingProfiles`, RemoteStartTransaction.req `chargingProfile`).
    static let chargingProfile = FieldType.object([
        .required("chargingProfileId", .integer),
        .optional("transactionId", .integer),
        .required("stackLevel", .integer),
        .required("chargingProfilePurpose", chargingProfilePurpose),
        .required("chargingProfileKind", .enumeration(["Absolute", "Recurring", "Relative"])),
        .optional("recurrencyKind", .enumeration(["Daily", "Weekly"])),
        .optional("validFrom", .dateTime),
        .optional("validTo", .dateTime),
        .required("chargingSchedule", chargingSchedule),
    ])

    // MARK: Messages

    static let messages: [MessageSpec] = [
        MessageSpec(
            "ClearChargingProfile", sender: .centralSystem,
            request: [
                .optional("id", .integer),
                .optional("connectorId", .integer),
                .optional("chargingProfilePurpose", chargingProfilePurpose),
                .optional("stackLevel", .integer),
            ],
            response: [.required("status", .enumeration(["Accepted", "Unknown"]))]),
        MessageSpec(
            "GetCompositeSchedule", sender: .centralSystem,
            request: [
                .required("connectorId", .integer),
                .required("duration", .integer),
                .optional("chargingRateUnit", chargingRateUnit),
            ],
            response: [
                .required("status", CoreSpecs.acceptedRejected),
                .optional("connectorId", .integer),
                .optional("scheduleStart", .dateTime),
                .optional("chargingSchedule", chargingSchedule),
            ]),
        MessageSpec(
            "SetChargingProfile", sender: .centralSystem,
            request: [
                .required("connectorId", .integer),
                .required("csChargingProfiles", chargingProfile),
            ],
            response: [.required("status", .enumeration(["Accepted", "Rejected", "NotSupported"]))]),
    ]
}

// MARK: - Hand-written examples

extension SmartChargingSpecs {
    static let examples: [PayloadExample] = [
        .accepted(
            "daily default profile with three periods", .setChargingProfile, .request,
            #"""
            {"connectorId":0,"csChargingProfiles":{"chargingProfileId":100,"stackLevel":1,
              "chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Recurring","recurrencyKind":"Daily",
              "validFrom":"2024-05-01T00:00:00Z","validTo":"2025-05-01T00:00:00Z",
              "chargingSchedule":{"duration":86400,"startSchedule":"2024-05-01T00:00:00Z","chargingRateUnit":"W",
                "chargingSchedulePeriod":[{"startPeriod":0,"limit":11000},{"startPeriod":25200,"limit":3680.5,"numberPhases":1},
                  {"startPeriod":79200,"limit":11000,"numberPhases":3}],"minChargingRate":1380.0}}}
            """#),
        .accepted(
            "transaction profile for one transaction", .setChargingProfile, .request,
            #"""
            {"connectorId":1,"csChargingProfiles":{"chargingProfileId":101,"transactionId":8812,"stackLevel":0,
              "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute",
              "chargingSchedule":{"startSchedule":"2024-05-01T10:00:00Z","chargingRateUnit":"A",
                "chargingSchedulePeriod":[{"startPeriod":0,"limit":32},{"startPeriod":1800,"limit":6.1}]}}}
            """#),
        .refused(
            "limit with two decimals", .setChargingProfile, .request,
            #"""
            {"connectorId":1,"csChargingProfiles":{"chargingProfileId":101,"stackLevel":0,
              "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute",
              "chargingSchedule":{"chargingRateUnit":"A",
                "chargingSchedulePeriod":[{"startPeriod":0,"limit":32},{"startPeriod":900,"limit":16},{"startPeriod":1800,"limit":6.25}]}}}
            """#,
            .propertyConstraintViolation, at: "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[2].limit"),
        .refused(
            "rate unit kW", .setChargingProfile, .request,
            #"""
            {"connectorId":1,"csChargingProfiles":{"chargingProfileId":101,"stackLevel":0,
              "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute",
              "chargingSchedule":{"chargingRateUnit":"kW","chargingSchedulePeriod":[{"startPeriod":0,"limit":11}]}}}
            """#,
            .propertyConstraintViolation, at: "csChargingProfiles.chargingSchedule.chargingRateUnit"),
        .refused(
            "stackLevel missing", .setChargingProfile, .request,
            #"""
            {"connectorId":1,"csChargingProfiles":{"chargingProfileId":101,
              "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute",
              "chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}}
            """#,
            .occurenceConstraintViolation, at: "csChargingProfiles.stackLevel"),
        .refused(
            "startPeriod as a fraction", .setChargingProfile, .request,
            #"""
            {"connectorId":1,"csChargingProfiles":{"chargingProfileId":101,"stackLevel":0,
              "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute",
              "chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0.5,"limit":16}]}}}
            """#,
            .typeConstraintViolation, at: "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].startPeriod"),
        .refused(
            "profile under the OCPP 2.0 name", .setChargingProfile, .request,
            #"""
            {"connectorId":1,"chargingProfile":{"chargingProfileId":101,"stackLevel":0,
              "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute",
              "chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}}
            """#,
            .occurenceConstraintViolation, at: "csChargingProfiles"),
        .accepted("not supported", .setChargingProfile, .response, #"{"status":"NotSupported"}"#),
        .accepted(
            "one hour in watts", .getCompositeSchedule, .request,
            #"{"connectorId":1,"duration":3600,"chargingRateUnit":"W"}"#),
        .accepted(
            "composite schedule", .getCompositeSchedule, .response,
            #"""
            {"status":"Accepted","connectorId":1,"scheduleStart":"2024-05-01T10:00:00Z",
             "chargingSchedule":{"duration":3600,"chargingRateUnit":"W",
               "chargingSchedulePeriod":[{"startPeriod":0,"limit":11000},{"startPeriod":1800,"limit":7400.5}]}}
            """#),
        .refused(
            "schedule without rate unit", .getCompositeSchedule, .response,
            #"{"status":"Accepted","chargingSchedule":{"chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}"#,
            .occurenceConstraintViolation, at: "chargingSchedule.chargingRateUnit"),
        .accepted("clear all", .clearChargingProfile, .request, "{}"),
        .accepted(
            "clear default profiles of connector 1", .clearChargingProfile, .request,
            #"{"connectorId":1,"chargingProfilePurpose":"TxDefaultProfile","stackLevel":1}"#),
        .accepted("unknown", .clearChargingProfile, .response, #"{"status":"Unknown"}"#),
        .refused(
            "rejected is not a ClearChargingProfile status", .clearChargingProfile, .response,
            #"{"status":"Rejected"}"#, .propertyConstraintViolation, at: "status"),
    ]
}
