/// The request types of the FirmwareManagement profile, registered with OCPPAction.
enum FirmwareManagementProfile {
    static let requestTypes: [any OCPPRequest.Type] = [
        DiagnosticsStatusNotificationRequest.self,
        FirmwareStatusNotificationRequest.self,
        GetDiagnosticsRequest.self,
        UpdateFirmwareRequest.self,
    ]
}
