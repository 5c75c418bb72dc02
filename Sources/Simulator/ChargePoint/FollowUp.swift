import OCPP
import Shared

/// Something a charge point does after answering a central-system command: the
/// answer goes first, then these, carried out by whoever runs the station.
enum FollowUp: Sendable, Hashable {
    /// RemoteStartTransaction accepted: (authorize, then) start on this connector.
    case startTransaction(connectorId: Int, idTag: String)
    /// RemoteStopTransaction, UnlockConnector or an inoperative connector: stop it.
    case stopTransaction(transactionId: Int, reason: StopReason)
    /// Reset accepted: stop transactions, reconnect and boot again.
    case reset(ResetType)
    /// A connector's status changed (availability, reservation): report it.
    case reportStatus(connectorId: Int)
    /// TriggerMessage / ExtendedTriggerMessage accepted.
    case trigger(TriggeredMessage, connectorId: Int?)
    /// UpdateFirmware: Downloading, Downloaded, Installing, Installed.
    case updateFirmware
    /// SignedUpdateFirmware: the whitepaper's status sequence, with its request id.
    case updateSignedFirmware(requestId: Int)
    /// GetDiagnostics: Uploading, Uploaded.
    case uploadDiagnostics
    /// GetLog: Uploading, Uploaded, with its request id.
    case uploadLog(requestId: Int)
}

/// The messages TriggerMessage and ExtendedTriggerMessage may ask for.
enum TriggeredMessage: Sendable, Hashable {
    case bootNotification
    case heartbeat
    case meterValues
    case statusNotification
    case firmwareStatusNotification
    case diagnosticsStatusNotification
    case logStatusNotification
}
