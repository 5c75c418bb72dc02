/// The request types of the Reservation profile, registered with OCPPAction.
enum ReservationProfile {
    static let requestTypes: [any OCPPRequest.Type] = [
        CancelReservationRequest.self,
        ReserveNowRequest.self,
    ]
}
