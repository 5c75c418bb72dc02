import Foundation
import OCPP
import Shared

/// The answer to one central-system CALL: the frame to send, then the follow-ups.
struct CommandAnswer: Sendable {
    var frame: [UInt8]
    var followUps: [FollowUp] = []
}

extension ChargePoint {
    /// Validates a command as a charge point receives it and answers it: a CALLERROR
    /// with the spec's code for a malformed or unknown one, else a typed response.
    mutating func answer(_ call: Call) -> CommandAnswer {
        let request: any OCPPRequest
        do {
            request = try call.decodeRequest(receivedBy: .chargePoint)
        } catch {
            return CommandAnswer(
                frame: OCPPFrame.encodeCallError(CallError(messageID: call.messageID, validationError: error)))
        }
        let (response, followUps) = respond(to: request)
        return CommandAnswer(
            frame: OCPPFrame.encodeCallResult(messageID: call.messageID, payload: response), followUps: followUps)
    }

    private mutating func respond(to request: any OCPPRequest) -> (any OCPPResponse, [FollowUp]) {
        switch request {
        case let request as RemoteStartTransactionRequest: return remoteStart(request)
        case let request as RemoteStopTransactionRequest:
            guard connectorID(ofTransaction: request.transactionId) != nil else {
                return (RemoteStopTransactionResponse(status: .rejected), [])
            }
            return (
                RemoteStopTransactionResponse(status: .accepted),
                [.stopTransaction(transactionId: request.transactionId, reason: .remote)]
            )
        case let request as ResetRequest:
            return (ResetResponse(status: .accepted), [.reset(request.type)])
        case let request as UnlockConnectorRequest: return unlock(request)
        case let request as ChangeAvailabilityRequest: return changeAvailability(request)
        case let request as ChangeConfigurationRequest:
            return (ChangeConfigurationResponse(status: configuration.change(request.key, to: request.value)), [])
        case let request as GetConfigurationRequest:
            return (configuration.get(request.key), [])
        case is ClearCacheRequest:
            return (ClearCacheResponse(status: .accepted), [])
        case is DataTransferRequest:
            // No vendor extensions here.
            return (DataTransferResponse(status: .unknownVendorId), [])
        case let request as TriggerMessageRequest: return trigger(request)
        case let request as ReserveNowRequest: return reserve(request)
        case let request as CancelReservationRequest: return cancelReservation(request)
        case is GetLocalListVersionRequest:
            return (GetLocalListVersionResponse(listVersion: localListVersion), [])
        case let request as SendLocalListRequest: return sendLocalList(request)
        case let request as SetChargingProfileRequest: return setChargingProfile(request)
        case let request as ClearChargingProfileRequest: return clearChargingProfiles(request)
        case let request as GetCompositeScheduleRequest: return (compositeSchedule(request), [])
        case is UpdateFirmwareRequest:
            return (UpdateFirmwareResponse(), [.updateFirmware])
        case is GetDiagnosticsRequest:
            let name = "diagnostics-\(identity)-\(Int(Date().timeIntervalSince1970)).log"
            return (GetDiagnosticsResponse(fileName: String(name.prefix(255))), [.uploadDiagnostics])
        default:
            return respondToSecurityCommand(request)
        }
    }

    private mutating func remoteStart(_ request: RemoteStartTransactionRequest) -> (any OCPPResponse, [FollowUp]) {
        let connectorID: Int?
        if let requested = request.connectorId {
            // Connector 0 is not a connector to charge at (OCPP 1.6 §5.11).
            let usable = connector(requested).map { $0.operative && $0.transaction == nil } ?? false
            let reservedForOther = connector(requested)?.reservation.map { $0.idTag != request.idTag } ?? false
            connectorID = usable && !reservedForOther ? requested : nil
        } else {
            connectorID = freeConnectorID
        }
        guard let connectorID, !isLocallyRefused(request.idTag) else {
            return (RemoteStartTransactionResponse(status: .rejected), [])
        }
        if let profile = request.chargingProfile, profile.chargingProfilePurpose == .txProfile {
            chargingProfiles[profile.chargingProfileId] = (connectorID, profile)
        }
        // Preparing at once, so that a second RemoteStart cannot take the same connector.
        setStatus(.preparing, of: connectorID)
        return (
            RemoteStartTransactionResponse(status: .accepted),
            [.startTransaction(connectorId: connectorID, idTag: request.idTag)]
        )
    }

    private mutating func unlock(_ request: UnlockConnectorRequest) -> (any OCPPResponse, [FollowUp]) {
        guard let connector = connector(request.connectorId) else {
            return (UnlockConnectorResponse(status: .notSupported), [])
        }
        // Unlocking ends a running transaction (OCPP 1.6 §5.17).
        let followUps: [FollowUp] =
            connector.transaction.map { [.stopTransaction(transactionId: $0.id, reason: .unlockCommand)] } ?? []
        return (UnlockConnectorResponse(status: .unlocked), followUps)
    }

    private mutating func changeAvailability(_ request: ChangeAvailabilityRequest) -> (any OCPPResponse, [FollowUp]) {
        let targets: [Int]
        if request.connectorId == 0 {
            targets = Array(connectorIDs)
        } else if connector(request.connectorId) != nil {
            targets = [request.connectorId]
        } else {
            return (ChangeAvailabilityResponse(status: .rejected), [])
        }
        let operative = request.type == .operative
        var scheduled = false
        var followUps: [FollowUp] = []
        for id in targets {
            var connector = connectors[id - 1]
            if connector.transaction != nil && !operative {
                connector.pendingInoperative = true
                scheduled = true
            } else {
                connector.pendingInoperative = false
                connector.operative = operative
                if connector.transaction == nil && connector.status != connector.idleStatus {
                    connector.status = connector.idleStatus
                    followUps.append(.reportStatus(connectorId: id))
                }
            }
            connectors[id - 1] = connector
        }
        return (ChangeAvailabilityResponse(status: scheduled ? .scheduled : .accepted), followUps)
    }

    private func trigger(_ request: TriggerMessageRequest) -> (any OCPPResponse, [FollowUp]) {
        if let id = request.connectorId, connector(id) == nil {
            return (TriggerMessageResponse(status: .rejected), [])
        }
        let message: TriggeredMessage =
            switch request.requestedMessage {
            case .bootNotification: .bootNotification
            case .heartbeat: .heartbeat
            case .meterValues: .meterValues
            case .statusNotification: .statusNotification
            case .firmwareStatusNotification: .firmwareStatusNotification
            case .diagnosticsStatusNotification: .diagnosticsStatusNotification
            }
        return (TriggerMessageResponse(status: .accepted), [.trigger(message, connectorId: request.connectorId)])
    }
}
