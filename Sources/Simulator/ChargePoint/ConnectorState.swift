import OCPP
import Shared

/// One connector of a simulated charge point.
struct ConnectorState: Sendable, Hashable {
    var status: ChargePointStatus = .available
    /// Set by ChangeAvailability; an inoperative connector is Unavailable.
    var operative = true
    /// ChangeAvailability to Inoperative while charging waits for the transaction's end.
    var pendingInoperative = false
    var transaction: ActiveTransaction?
    var reservation: Reservation?
    /// The energy register, in Wh: it only grows.
    var meterWh = 0

    struct ActiveTransaction: Sendable, Hashable {
        var id: Int
        var idTag: String
    }

    struct Reservation: Sendable, Hashable {
        var id: Int
        var idTag: String
    }

    /// The status this connector reports when nothing is going on.
    var idleStatus: ChargePointStatus {
        if !operative { return .unavailable }
        if reservation != nil { return .reserved }
        return .available
    }
}
