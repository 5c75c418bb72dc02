/// The request types of the security whitepaper profile, registered with OCPPAction.
enum SecurityProfile {
    static let requestTypes: [any OCPPRequest.Type] = []
}
