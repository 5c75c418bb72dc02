import Foundation
import NIOCore
import OCPP
import Shared

/// Stations that lose their connection after sending each transaction-related CALL
/// (StartTransaction, MeterValues, StopTransaction) and before reading its answer,
/// reconnect and send the same CALL again with the same unique id: OCPP 1.6 has a
/// charge point retry transaction-related messages until the central system
/// has answered them. The central system must store each once and answer the resend
/// as it answered (or would have answered) the first copy.
struct ResendScenario: Sendable {
    var connector: WebSocketConnector
    var identityPrefix: String
    var stations: Int
    /// MeterValues per transaction, each with ten sampled values.
    var meterValues: Int
    /// How long after sending a CALL its connection is dropped: from 0 (likely before the
    /// central system stored it) to tens of milliseconds (after it stored and answered).
    var dropDelay: ClosedRange<Int> = 0...20
    /// Resend under a fresh unique id, as a non-compliant charger does: the central
    /// system then cannot tell the copy from a new message (verify shows the duplicate).
    var newIDOnResend = false
    var answerTimeout = Duration.seconds(30)

    struct Outcome: Sendable {
        var journal: AckJournal
        /// CALLs sent twice: once on a dropped connection, once after reconnecting.
        var resent: Int
        var elapsed: Duration
    }

    func execute(group: any EventLoopGroup) async throws -> Outcome {
        let startedAt = Date()
        let start = ContinuousClock.now
        var journal = try await withThrowingTaskGroup(of: AckJournal.self) { tasks in
            for index in 0..<stations {
                tasks.addTask { try await runStation(identity: "\(identityPrefix)\(index)", group: group) }
            }
            var merged = AckJournal()
            for try await stationJournal in tasks { merged.add(stationJournal) }
            return merged
        }
        journal.startedAt = startedAt
        // Every CALL was answered in the end: a stored row beyond the acks is a duplicate.
        journal.unanswered = 0
        return Outcome(journal: journal, resent: stations * (meterValues + 2), elapsed: start.duration(to: .now))
    }

    /// One station: boot, then one transaction whose every message is dropped once and resent.
    private func runStation(identity: String, group: any EventLoopGroup) async throws -> AckJournal {
        var journal = AckJournal()
        var connection = try await boot(identity: identity, group: group)

        let start = StartTransactionRequest(
            connectorId: 1, idTag: "TAG-\(identity.suffix(16))", meterStart: 0, timestamp: Date())
        let startAnswer = try await resend(start, identity: identity, over: &connection, group: group)
        let started = try StartTransactionResponse(json: .object(startAnswer))
        let transactionID = started.transactionId
        journal.starts.append(
            AckJournal.Start(
                identity: identity, connectorId: start.connectorId, transactionId: transactionID, idTag: start.idTag,
                meterStart: start.meterStart, timestamp: start.timestamp))

        var energyWh = 0
        for reading in 0..<meterValues {
            energyWh += StationTraffic.energyPerReadingWh
            let sample = MeterSampler.sample(
                at: Date(), energyWh: energyWh, powerW: 11_000, elapsed: Double(reading + 1) * 60)
            let request = MeterValuesRequest(connectorId: 1, meterValue: [sample], transactionId: transactionID)
            _ = try await resend(request, identity: identity, over: &connection, group: group)
            journal.samples[.init(identity: identity, transactionId: transactionID), default: 0] +=
                sample.sampledValue.count
        }

        let stop = StopTransactionRequest(
            transactionId: transactionID, meterStop: energyWh, timestamp: Date(), reason: .evDisconnected)
        _ = try await resend(stop, identity: identity, over: &connection, group: group)
        journal.stops.append(AckJournal.Stop(identity: identity, transactionId: transactionID, meterStop: energyWh))
        return journal
    }

    /// Sends `request`, drops the connection before reading the answer, reconnects and
    /// sends it again; returns the answer to the second copy.
    private func resend<Request: OCPPRequest>(
        _ request: Request, identity: String, over connection: inout CallConnection, group: any EventLoopGroup
    ) async throws -> JSONObject {
        let messageID = UUID().uuidString
        try await connection.sendThenDrop(
            OCPPFrame.encodeCall(messageID: messageID, request: request),
            after: .milliseconds(Int.random(in: dropDelay)))
        connection = try await connect(identity: identity, group: group)
        let resentID = newIDOnResend ? UUID().uuidString : messageID
        return try await connection.call(
            messageID: resentID, bytes: OCPPFrame.encodeCall(messageID: resentID, request: request),
            timeout: answerTimeout)
    }

    /// Connects and boots until Accepted (after the interval a Pending answer gives).
    private func boot(identity: String, group: any EventLoopGroup) async throws -> CallConnection {
        var connection = try await connect(identity: identity, group: group)
        while true {
            let id = UUID().uuidString
            let request = BootNotificationRequest(chargePointVendor: "SwiftOCPP", chargePointModel: "ocpp-sim-resend")
            let answer = try await connection.call(
                messageID: id, bytes: OCPPFrame.encodeCall(messageID: id, request: request), timeout: answerTimeout)
            let response = try BootNotificationResponse(json: .object(answer))
            if response.status == .accepted { return connection }
            try await Task.sleep(for: .seconds(max(1, min(response.interval, 60))))
        }
    }

    private func connect(identity: String, group: any EventLoopGroup) async throws -> CallConnection {
        CallConnection(try await StationLink.connect(connector, identity: identity, password: nil, group: group))
    }
}
