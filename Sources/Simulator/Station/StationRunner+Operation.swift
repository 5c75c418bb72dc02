import Foundation
import OCPP
import Shared

/// What a connected station does by itself: boot, report its connectors, keep the
/// heartbeat, and carry out the follow-ups of commands.
extension StationRunner {
    /// Boots when needed, reports every connector, resumes metering of running
    /// transactions, then sends heartbeats at the interval the central system gave.
    func operate() async throws {
        if needsBoot {
            try await boot(acceptPendingFor: nil)
            needsBoot = false
        }
        try await reportStatus(ofConnectors: [0] + Array(chargePoint.connectorIDs))
        for id in chargePoint.connectorIDs {
            if let transaction = chargePoint.connectors[id - 1].transaction {
                schedule(.meter(connectorId: id, transactionId: transaction.id))
            }
        }
        while true {
            let interval = chargePoint.configuration.integer("HeartbeatInterval") ?? 300
            try await Task.sleep(for: .seconds(max(1, interval)))
            do {
                _ = try await call(HeartbeatRequest())
            } catch let error as CallRefused {
                printer.note("\(error)")
            }
        }
    }

    /// BootNotification until Accepted, waiting the interval the central system
    /// gives after Pending or Rejected. With `acceptPendingFor` set, a Pending or
    /// Rejected answer throws instead (a scripted run wants an answer now).
    func boot(acceptPendingFor script: String?) async throws {
        while true {
            let response = try await call(
                BootNotificationRequest(
                    chargePointVendor: settings.vendor, chargePointModel: settings.model,
                    chargePointSerialNumber: String(settings.identity.prefix(25)), firmwareVersion: "1.0.0",
                    meterType: "sim-meter"))
            if response.status == .accepted {
                if response.interval > 0 {
                    _ = chargePoint.configuration.change("HeartbeatInterval", to: String(response.interval))
                }
                return
            }
            if script != nil {
                throw CallRefused(action: "BootNotification", reason: response.status.rawValue)
            }
            printer.note("boot \(response.status.rawValue): trying again in \(response.interval) s")
            try await Task.sleep(for: .seconds(max(1, response.interval)))
        }
    }

    func reportStatus(ofConnectors ids: [Int]) async throws {
        for id in ids {
            // Connector 0 is the charge point itself: Available unless every connector is not.
            let status =
                id == 0
                ? (chargePoint.connectors.contains { $0.operative } ? ChargePointStatus.available : .unavailable)
                : chargePoint.connectors[id - 1].status
            try await sendStatus(status, of: id)
        }
    }

    func sendStatus(_ status: ChargePointStatus, of connectorID: Int) async throws {
        if connectorID > 0 { chargePoint.setStatus(status, of: connectorID) }
        _ = try await call(
            StatusNotificationRequest(connectorId: connectorID, errorCode: .noError, status: status, timestamp: Date()))
    }

    /// Carries out one job; failures are printed, not thrown (the station goes on).
    func carryOut(_ job: Job) async {
        do {
            switch job {
            case .meter(let connectorID, let transactionID):
                try await meter(connectorID: connectorID, transactionID: transactionID)
            case .followUp(let followUp):
                try await carryOut(followUp)
            }
        } catch is CancellationError {
        } catch {
            printer.note("\(error)")
        }
    }

    private func carryOut(_ followUp: FollowUp) async throws {
        switch followUp {
        case .startTransaction(let connectorID, let idTag):
            try await startRemoteTransaction(connectorID: connectorID, idTag: idTag)
        case .stopTransaction(let transactionID, let reason):
            try await stopTransaction(transactionID, reason: reason)
        case .reset(let type):
            for id in chargePoint.connectorIDs {
                guard let transaction = chargePoint.connectors[id - 1].transaction else { continue }
                try await stopTransaction(transaction.id, reason: type == .hard ? .hardReset : .softReset)
            }
            resetRequested = type
            needsBoot = true
            closeConnection()
        case .reportStatus(let connectorID):
            try await reportStatus(ofConnectors: [connectorID])
        case .trigger(let message, let connectorID):
            try await send(triggered: message, connectorID: connectorID)
        case .updateFirmware:
            for status in [FirmwareStatus.downloading, .downloaded, .installing, .installed] {
                try await Task.sleep(for: settings.realTime(5))
                firmwareStatus = status
                _ = try await call(FirmwareStatusNotificationRequest(status: status))
            }
        case .updateSignedFirmware(let requestID):
            let steps: [SignedFirmwareStatus] = [
                .downloading, .downloaded, .signatureVerified, .installing, .installed,
            ]
            for status in steps {
                try await Task.sleep(for: settings.realTime(5))
                _ = try await call(SignedFirmwareStatusNotificationRequest(status: status, requestId: requestID))
            }
        case .uploadDiagnostics:
            for status in [DiagnosticsStatus.uploading, .uploaded] {
                try await Task.sleep(for: settings.realTime(5))
                diagnosticsStatus = status
                _ = try await call(DiagnosticsStatusNotificationRequest(status: status))
            }
        case .uploadLog(let requestID):
            for status in [UploadLogStatus.uploading, .uploaded] {
                try await Task.sleep(for: settings.realTime(5))
                _ = try await call(LogStatusNotificationRequest(status: status, requestId: requestID))
            }
        }
    }

    private func send(triggered message: TriggeredMessage, connectorID: Int?) async throws {
        switch message {
        case .bootNotification:
            try await boot(acceptPendingFor: nil)
        case .heartbeat:
            _ = try await call(HeartbeatRequest())
        case .statusNotification:
            try await reportStatus(ofConnectors: connectorID.map { [$0] } ?? [0] + Array(chargePoint.connectorIDs))
        case .meterValues:
            for id in connectorID.map({ [$0] }) ?? Array(chargePoint.connectorIDs) where id > 0 {
                try await sendMeterValues(
                    connectorID: id, transactionID: chargePoint.connectors[id - 1].transaction?.id, context: .trigger)
            }
        case .firmwareStatusNotification:
            _ = try await call(FirmwareStatusNotificationRequest(status: firmwareStatus))
        case .diagnosticsStatusNotification:
            _ = try await call(DiagnosticsStatusNotificationRequest(status: diagnosticsStatus))
        case .logStatusNotification:
            _ = try await call(LogStatusNotificationRequest(status: .idle))
        }
    }
}
