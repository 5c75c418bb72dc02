import Foundation
import OCPP
import Shared

/// A simulated charge point's state: configuration, connectors and their
/// transactions, the local authorization list, reservations, charging profiles and
/// installed certificates. A value with no IO: commands go in through
/// ``answer(_:)``, which returns the CALLRESULT or CALLERROR to send and the
/// follow-ups to carry out after it.
struct ChargePoint: Sendable {
    let identity: String
    var configuration: ConfigurationStore
    /// Connector `n` is `connectors[n - 1]`.
    var connectors: [ConnectorState]
    var localListVersion = 0
    var localList: [String: IdTagInfo] = [:]
    /// Installed charging profiles by id, with the connector they were set on.
    var chargingProfiles: [Int: (connectorId: Int, profile: ChargingProfile)] = [:]
    var installedCertificates: [(use: CertificateUse, hash: CertificateHashData)] = []

    init(identity: String, connectors: Int, configuration: ConfigurationStore? = nil) {
        self.identity = identity
        self.configuration = configuration ?? ConfigurationStore(connectors: connectors)
        self.connectors = Array(repeating: ConnectorState(), count: connectors)
    }

    var connectorIDs: ClosedRange<Int> { 1...connectors.count }

    func connector(_ id: Int) -> ConnectorState? {
        connectorIDs.contains(id) ? connectors[id - 1] : nil
    }

    /// The connector of a running transaction.
    func connectorID(ofTransaction transactionID: Int) -> Int? {
        connectorIDs.first { connectors[$0 - 1].transaction?.id == transactionID }
    }

    /// The first connector free to start charging.
    var freeConnectorID: Int? {
        connectorIDs.first {
            let connector = connectors[$0 - 1]
            return connector.operative && connector.transaction == nil && connector.reservation == nil
        }
    }

    mutating func setStatus(_ status: ChargePointStatus, of connectorID: Int) {
        connectors[connectorID - 1].status = status
    }

    /// A transaction the central system accepted has started on `connectorID`.
    mutating func transactionStarted(id: Int, idTag: String, on connectorID: Int) {
        connectors[connectorID - 1].transaction = .init(id: id, idTag: idTag)
        // A reservation for this connector is used up by the transaction (OCPP 1.6 §5.13).
        connectors[connectorID - 1].reservation = nil
        connectors[connectorID - 1].status = .charging
    }

    /// The transaction on `connectorID` ended; returns the status to report.
    mutating func transactionEnded(on connectorID: Int) -> ChargePointStatus {
        var connector = connectors[connectorID - 1]
        connector.transaction = nil
        if connector.pendingInoperative {
            connector.pendingInoperative = false
            connector.operative = false
        }
        connector.status = connector.idleStatus
        connectors[connectorID - 1] = connector
        return connector.status
    }

    /// Adds `wattHours` to a connector's energy register; returns the new reading.
    mutating func meter(_ wattHours: Int, on connectorID: Int) -> Int {
        connectors[connectorID - 1].meterWh += wattHours
        return connectors[connectorID - 1].meterWh
    }

    /// An id tag the local list knows as not Accepted may not start charging.
    func isLocallyRefused(_ idTag: String) -> Bool {
        guard let info = localList[idTag] else { return false }
        return info.status != .accepted
    }
}
