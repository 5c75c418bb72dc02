import Foundation

/// ReserveNow, central system → charge point (Reservation).
///
/// Reserves a connector (connector 0: any connector of the charge point) for `idTag`
/// until `expiryDate`. A request with the `reservationId` of an existing reservation
/// replaces that reservation.
public struct ReserveNowRequest: OCPPRequest {
    public typealias Response = ReserveNowResponse
    public static let action = OCPPAction.reserveNow

    public var connectorId: Int
    public var expiryDate: Date
    /// CiString20.
    public var idTag: String
    /// CiString20.
    public var parentIdTag: String?
    public var reservationId: Int

    public init(connectorId: Int, expiryDate: Date, idTag: String, reservationId: Int, parentIdTag: String? = nil) {
        self.connectorId = connectorId
        self.expiryDate = expiryDate
        self.idTag = idTag
        self.reservationId = reservationId
        self.parentIdTag = parentIdTag
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        connectorId = try reader.required("connectorId")
        expiryDate = try reader.required("expiryDate")
        idTag = try reader.required("idTag", maxLength: 20)
        parentIdTag = try reader.optional("parentIdTag", maxLength: 20)
        reservationId = try reader.required("reservationId")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("connectorId", connectorId)
        writer.field("expiryDate", expiryDate)
        writer.field("idTag", idTag)
        writer.field("parentIdTag", parentIdTag)
        writer.field("reservationId", reservationId)
    }
}

/// ReserveNow.conf: whether the reservation was made, and if not, why.
public struct ReserveNowResponse: OCPPResponse {
    public var status: ReservationStatus

    public init(status: ReservationStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

public enum ReservationStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case faulted = "Faulted"
    case occupied = "Occupied"
    case rejected = "Rejected"
    case unavailable = "Unavailable"
}
