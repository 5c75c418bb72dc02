/// The request types of the Core profile, registered with OCPPAction.
enum CoreProfile {
    static let requestTypes: [any OCPPRequest.Type] = [
        AuthorizeRequest.self,
        BootNotificationRequest.self,
        ChangeAvailabilityRequest.self,
        ChangeConfigurationRequest.self,
        ClearCacheRequest.self,
        DataTransferRequest.self,
        GetConfigurationRequest.self,
        HeartbeatRequest.self,
        MeterValuesRequest.self,
        RemoteStartTransactionRequest.self,
        RemoteStopTransactionRequest.self,
        ResetRequest.self,
        StartTransactionRequest.self,
        StatusNotificationRequest.self,
        StopTransactionRequest.self,
        UnlockConnectorRequest.self,
    ]
}
