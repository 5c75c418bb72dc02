// The Reservation profile, from the OCPP 1.6 JSON schemas.

import OCPP

enum ReservationSpecs {
    static let messages: [MessageSpec] = [
        MessageSpec(
            "CancelReservation", sender: .centralSystem,
            request: [.required("reservationId", .integer)],
            response: [.required("status", CoreSpecs.acceptedRejected)]),
        MessageSpec(
            "ReserveNow", sender: .centralSystem,
            request: [
                .required("connectorId", .integer),
                .required("expiryDate", .dateTime),
                .required("idTag", .string(maxLength: 20)),
                .optional("parentIdTag", .string(maxLength: 20)),
                .required("reservationId", .integer),
            ],
            response: [
                .required("status", .enumeration(["Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"]))
            ]),
    ]
}

// MARK: - Hand-written examples

extension ReservationSpecs {
    static let examples: [PayloadExample] = [
        .accepted(
            "reserve connector 2 for a fleet card", .reserveNow, .request,
            #"{"connectorId":2,"expiryDate":"2024-05-01T10:30:00Z","idTag":"04A2B3C4D5E6F7","parentIdTag":"FLEET-042","reservationId":7}"#
        ),
        .refused(
            "expiry date without offset", .reserveNow, .request,
            #"{"connectorId":2,"expiryDate":"2024-05-01T10:30:00","idTag":"04A2B3C4D5E6F7","reservationId":7}"#,
            .propertyConstraintViolation, at: "expiryDate"),
        .refused(
            "reservationId missing", .reserveNow, .request,
            #"{"connectorId":2,"expiryDate":"2024-05-01T10:30:00Z","idTag":"04A2B3C4D5E6F7"}"#,
            .occurenceConstraintViolation, at: "reservationId"),
        .accepted("occupied", .reserveNow, .response, #"{"status":"Occupied"}"#),
        .refused(
            "status with a trailing underscore", .reserveNow, .response, #"{"status":"Accepted_"}"#,
            .propertyConstraintViolation, at: "status"),
        .accepted("cancel", .cancelReservation, .request, #"{"reservationId":7}"#),
        .accepted("rejected", .cancelReservation, .response, #"{"status":"Rejected"}"#),
        .refused(
            "status missing", .cancelReservation, .response, "{}", .occurenceConstraintViolation, at: "status"),
    ]
}
