/// The request types of the SmartCharging profile, registered with OCPPAction.
enum SmartChargingProfile {
    static let requestTypes: [any OCPPRequest.Type] = [
        ClearChargingProfileRequest.self,
        GetCompositeScheduleRequest.self,
        SetChargingProfileRequest.self,
    ]
}
