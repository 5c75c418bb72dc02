/// CancelReservation, central system → charge point (Reservation).
///
/// Cancels the reservation made by ReserveNow with the same `reservationId`; the
/// charge point answers `Rejected` when it has no such reservation.
public struct CancelReservationRequest: OCPPRequest {
    public typealias Response = CancelReservationResponse
    public static let action = OCPPAction.cancelReservation

    public var reservationId: Int

    public init(reservationId: Int) {
        self.reservationId = reservationId
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        reservationId = try reader.required("reservationId")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("reservationId", reservationId)
    }
}

/// CancelReservation.conf: whether the reservation was cancelled.
public struct CancelReservationResponse: OCPPResponse {
    public var status: CancelReservationStatus

    public init(status: CancelReservationStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

public enum CancelReservationStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
}
