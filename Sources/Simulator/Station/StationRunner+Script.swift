import Foundation
import OCPP
import Shared

/// One charging session from start to end, from flags: what a README walkthrough
/// or a smoke test runs.
struct ChargingScript: Sendable {
    var idTag: String
    var connectorID = 1
    /// Simulated minutes of charging.
    var chargeMinutes: Double
}

/// What a scripted session did.
struct ScriptSummary: Sendable {
    var transactionID: Int
    var meterValues: Int
    var sampledValues: Int
    var energyWh: Int
}

extension StationRunner {
    /// Boot, plug in (Preparing), Authorize, StartTransaction, MeterValues for the
    /// charging time, StopTransaction, Finishing, Available. Anything refused
    /// (a CALLERROR, a boot not Accepted, an id tag not Accepted) throws.
    func runScript(_ script: ChargingScript) async throws -> ScriptSummary {
        let connectorID = script.connectorID
        guard chargePoint.connector(connectorID) != nil else {
            throw SimulatorError("connector \(connectorID) does not exist (--connectors is \(settings.connectors))")
        }
        try await boot(acceptPendingFor: "script")
        needsBoot = false
        try await reportStatus(ofConnectors: [0] + Array(chargePoint.connectorIDs))

        try await sendStatus(.preparing, of: connectorID)
        let authorization = try await call(AuthorizeRequest(idTag: script.idTag))
        guard authorization.idTagInfo.status == .accepted else {
            throw CallRefused(action: "Authorize", reason: "id tag \(authorization.idTagInfo.status.rawValue)")
        }
        let meterStart = chargePoint.connectors[connectorID - 1].meterWh
        guard let transactionID = try await startTransaction(connectorID: connectorID, idTag: script.idTag) else {
            throw CallRefused(action: "StartTransaction", reason: "no transaction")
        }
        let count = max(1, Int((script.chargeMinutes * 60 / settings.meterInterval).rounded()))
        for _ in 0..<count {
            try await Task.sleep(for: settings.realTime(settings.meterInterval))
            try await sendMeterValues(connectorID: connectorID, transactionID: transactionID)
        }
        let meterStop = chargePoint.connectors[connectorID - 1].meterWh
        try await stopTransaction(transactionID, reason: .local)
        return ScriptSummary(
            transactionID: transactionID, meterValues: count, sampledValues: count * MeterSampler.valuesPerSample,
            energyWh: meterStop - meterStart)
    }
}
