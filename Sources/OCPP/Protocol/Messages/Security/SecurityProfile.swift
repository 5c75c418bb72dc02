/// The request types of the security whitepaper profile, registered with OCPPAction.
enum SecurityProfile {
    static let requestTypes: [any OCPPRequest.Type] = [
        CertificateSignedRequest.self,
        DeleteCertificateRequest.self,
        ExtendedTriggerMessageRequest.self,
        GetInstalledCertificateIdsRequest.self,
        GetLogRequest.self,
        InstallCertificateRequest.self,
        LogStatusNotificationRequest.self,
        SecurityEventNotificationRequest.self,
        SignCertificateRequest.self,
        SignedFirmwareStatusNotificationRequest.self,
        SignedUpdateFirmwareRequest.self,
    ]
}
