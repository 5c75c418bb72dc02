/// The request types of the Core profile, registered with OCPPAction.
enum CoreProfile {
    static let requestTypes: [any OCPPRequest.Type] = [BootNotificationRequest.self]
}
