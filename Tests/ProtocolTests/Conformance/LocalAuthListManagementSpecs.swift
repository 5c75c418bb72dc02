// The Local Auth List Management profile, from the OCPP 1.6 JSON schemas.

import OCPP

enum LocalAuthListManagementSpecs {
    /// SendLocalList.req `localAuthorizationList` items; no idTagInfo means "remove this idTag".
    static let authorizationData = FieldType.object([
        .required("idTag", .string(maxLength: 20)),
        .optional("idTagInfo", CoreSpecs.idTagInfo),
    ])

    static let messages: [MessageSpec] = [
        MessageSpec(
            "GetLocalListVersion", sender: .centralSystem,
            request: [],
            response: [.required("listVersion", .integer)]),
        MessageSpec(
            "SendLocalList", sender: .centralSystem,
            request: [
                .required("listVersion", .integer),
                .optional("localAuthorizationList", .array(of: authorizationData, minItems: 0)),
                .required("updateType", .enumeration(["Differential", "Full"])),
            ],
            response: [
                .required("status", .enumeration(["Accepted", "Failed", "NotSupported", "VersionMismatch"]))
            ]),
    ]
}

// MARK: - Hand-written examples

extension LocalAuthListManagementSpecs {
    static let examples: [PayloadExample] = [
        .accepted(
            "full list of three cards", .sendLocalList, .request,
            #"""
            {"listVersion":12,"updateType":"Full","localAuthorizationList":[
              {"idTag":"04A2B3C4D5E6F7","idTagInfo":{"status":"Accepted","expiryDate":"2025-01-01T00:00:00Z"}},
              {"idTag":"04FFEE0011","idTagInfo":{"status":"Accepted","parentIdTag":"FLEET-042"}},
              {"idTag":"0411223344","idTagInfo":{"status":"Blocked"}}]}
            """#),
        .accepted(
            "differential update removing a card", .sendLocalList, .request,
            #"{"listVersion":13,"updateType":"Differential","localAuthorizationList":[{"idTag":"0411223344"}]}"#),
        .accepted("empty full list", .sendLocalList, .request, #"{"listVersion":14,"updateType":"Full"}"#),
        .refused(
            "an authorization status that does not exist", .sendLocalList, .request,
            #"""
            {"listVersion":12,"updateType":"Full","localAuthorizationList":[
              {"idTag":"04A2B3C4D5E6F7","idTagInfo":{"status":"Accepted"}},{"idTag":"04FFEE0011","idTagInfo":{"status":"Unknown"}}]}
            """#,
            .propertyConstraintViolation, at: "localAuthorizationList[1].idTagInfo.status"),
        .refused(
            "entry without idTag", .sendLocalList, .request,
            #"{"listVersion":12,"updateType":"Full","localAuthorizationList":[{"idTagInfo":{"status":"Accepted"}}]}"#,
            .occurenceConstraintViolation, at: "localAuthorizationList[0].idTag"),
        .refused(
            "updateType missing", .sendLocalList, .request, #"{"listVersion":12}"#,
            .occurenceConstraintViolation, at: "updateType"),
        .accepted("version mismatch", .sendLocalList, .response, #"{"status":"VersionMismatch"}"#),
        .accepted("empty request", .getLocalListVersion, .request, "{}"),
        .accepted("no list", .getLocalListVersion, .response, #"{"listVersion":0}"#),
        .refused(
            "version as a string", .getLocalListVersion, .response, #"{"listVersion":"12"}"#,
            .typeConstraintViolation, at: "listVersion"),
    ]
}
