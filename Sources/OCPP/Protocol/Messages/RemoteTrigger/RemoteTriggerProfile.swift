/// The request types of the RemoteTrigger profile, registered with OCPPAction.
enum RemoteTriggerProfile {
    static let requestTypes: [any OCPPRequest.Type] = [
        TriggerMessageRequest.self
    ]
}
