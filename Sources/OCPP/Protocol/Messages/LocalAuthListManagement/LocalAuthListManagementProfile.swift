/// The request types of the LocalAuthListManagement profile, registered with OCPPAction.
enum LocalAuthListManagementProfile {
    static let requestTypes: [any OCPPRequest.Type] = [
        GetLocalListVersionRequest.self,
        SendLocalListRequest.self,
    ]
}
