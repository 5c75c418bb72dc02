import Foundation
import OCPP
import Shared

/// Charging: starting, metering and stopping transactions.
extension StationRunner {
    /// RemoteStartTransaction accepted: authorize when the configuration asks for
    /// it, start, and meter until the transaction stops.
    func startRemoteTransaction(connectorID: Int, idTag: String) async throws {
        try await sendStatus(.preparing, of: connectorID)
        if chargePoint.configuration.boolean("AuthorizeRemoteTxRequests") {
            let authorization = try await call(AuthorizeRequest(idTag: idTag))
            guard authorization.idTagInfo.status == .accepted else {
                printer.note("id tag \(authorization.idTagInfo.status.rawValue): not charging")
                return try await sendStatus(chargePoint.connectors[connectorID - 1].idleStatus, of: connectorID)
            }
        }
        let transactionID = try await startTransaction(connectorID: connectorID, idTag: idTag)
        guard let transactionID else { return }
        schedule(.meter(connectorId: connectorID, transactionId: transactionID))
    }

    /// StartTransaction, then Charging; a refused id tag stops the transaction at once
    /// (DeAuthorized). Returns the transaction id when charging.
    @discardableResult
    func startTransaction(connectorID: Int, idTag: String) async throws -> Int? {
        let response = try await call(
            StartTransactionRequest(
                connectorId: connectorID, idTag: idTag, meterStart: chargePoint.connectors[connectorID - 1].meterWh,
                timestamp: Date()))
        chargePoint.transactionStarted(id: response.transactionId, idTag: idTag, on: connectorID)
        readings[response.transactionId] = 0
        guard response.idTagInfo.status == .accepted else {
            try await stopTransaction(response.transactionId, reason: .deAuthorized)
            throw CallRefused(action: "StartTransaction", reason: "id tag \(response.idTagInfo.status.rawValue)")
        }
        try await sendStatus(.charging, of: connectorID)
        return response.transactionId
    }

    /// MeterValues every meter interval while the transaction runs.
    func meter(connectorID: Int, transactionID: Int) async throws {
        while chargePoint.connectors[connectorID - 1].transaction?.id == transactionID {
            try await Task.sleep(for: settings.realTime(settings.meterInterval))
            guard chargePoint.connectors[connectorID - 1].transaction?.id == transactionID else { return }
            try await sendMeterValues(connectorID: connectorID, transactionID: transactionID)
        }
    }

    /// One reading: the register grows by the energy of one interval while charging.
    func sendMeterValues(
        connectorID: Int, transactionID: Int?, context: ReadingContext = .samplePeriodic
    ) async throws {
        let charging = transactionID != nil && context == .samplePeriodic
        let energy = charging ? Int(settings.chargingPower * settings.meterInterval / 3600) : 0
        let register = chargePoint.meter(energy, on: connectorID)
        var elapsed = 0.0
        if let transactionID, charging {
            readings[transactionID, default: 0] += 1
            elapsed = Double(readings[transactionID] ?? 0) * settings.meterInterval
        }
        let sample = MeterSampler.sample(
            at: Date(), energyWh: register, powerW: transactionID == nil ? 0 : settings.chargingPower,
            elapsed: elapsed, context: context)
        _ = try await call(
            MeterValuesRequest(connectorId: connectorID, meterValue: [sample], transactionId: transactionID))
    }

    /// StopTransaction with the register, then Finishing and the connector's idle status.
    func stopTransaction(_ transactionID: Int, reason: StopReason) async throws {
        guard let connectorID = chargePoint.connectorID(ofTransaction: transactionID),
            let transaction = chargePoint.connectors[connectorID - 1].transaction
        else { return }
        let meterStop = chargePoint.connectors[connectorID - 1].meterWh
        // Ends the meter loop: the transaction is over from here on.
        let idle = chargePoint.transactionEnded(on: connectorID)
        readings[transactionID] = nil
        _ = try await call(
            StopTransactionRequest(
                transactionId: transactionID, meterStop: meterStop, timestamp: Date(), idTag: transaction.idTag,
                reason: reason))
        try await sendStatus(.finishing, of: connectorID)
        try await sendStatus(idle, of: connectorID)
    }
}
