import Foundation
import OCPP
import Shared

/// The charging cycle a load station goes through, one message per scheduled turn:
/// plug in (StatusNotification Preparing), StartTransaction, Charging, MeterValues
/// with ten sampled values for a while, StopTransaction, Available, and a Heartbeat
/// now and then. MeterValues are most of the traffic, as on a real network.
///
/// With ``Mix/meterValues`` a station starts one transaction and then sends only
/// MeterValues with ten sampled values, with no Heartbeat: a fixed message for
/// measuring what one such message costs the central system.
struct StationTraffic {
    /// What a station sends (`ocpp-sim load --mix`).
    enum Mix: String, CaseIterable, Sendable {
        /// The charging cycle above.
        case charging
        /// StartTransaction once, then MeterValues(10) for ever.
        case meterValues = "meter-values"
    }

    enum Step {
        case plugIn
        case start
        case charging
        case meter(remaining: Int)
        case stop
        case unplug
    }

    /// MeterValues per transaction, chosen per transaction from this range.
    static let samplesPerTransaction = 10...30
    /// One turn in this many is a Heartbeat.
    static let heartbeatEvery = 40
    /// The simulated time a reading covers, for the energy register (11 kW for 60 s).
    static let energyPerReadingWh = 183

    let mix: Mix
    private(set) var step: Step
    private(set) var transactionID: Int?
    private(set) var connectorStatus = ChargePointStatus.available
    private var turns = 0
    private var meterWh = 0
    private var readings = 0
    /// Each message's timestamp is later than the last (the store keys readings by time).
    private var lastTimestampMilliseconds: Int64 = 0

    init(mix: Mix = .charging) {
        self.mix = mix
        step = mix == .meterValues ? .start : .plugIn
    }

    mutating func nextMessage(identity: String, index: Int, messageID: String) -> (LoadStation.CallKind, [UInt8]) {
        turns += 1
        if mix == .charging, turns % Self.heartbeatEvery == 0 {
            return (.heartbeat, OCPPFrame.encodeCall(messageID: messageID, request: HeartbeatRequest()))
        }
        let now = nextTimestamp()
        switch step {
        case .plugIn, .charging, .unplug:
            let status: ChargePointStatus =
                switch step {
                case .plugIn: .preparing
                case .charging: .charging
                default: .available
                }
            connectorStatus = status
            step =
                switch step {
                case .plugIn: .start
                case .charging: .meter(remaining: Int.random(in: Self.samplesPerTransaction))
                default: .plugIn
                }
            let request = StatusNotificationRequest(connectorId: 1, errorCode: .noError, status: status, timestamp: now)
            return (.status, OCPPFrame.encodeCall(messageID: messageID, request: request))
        case .start:
            let request = StartTransactionRequest(
                connectorId: 1, idTag: "TAG-\(index % 10_000)", meterStart: meterWh, timestamp: now)
            return (.start(request), OCPPFrame.encodeCall(messageID: messageID, request: request))
        case .meter(let remaining):
            guard let transactionID, remaining > 0 else { return stopMessage(messageID: messageID, at: now) }
            // Meter-values traffic never stops its transaction.
            step = .meter(remaining: mix == .meterValues ? remaining : remaining - 1)
            meterWh += Self.energyPerReadingWh
            readings += 1
            let sample = MeterSampler.sample(
                at: now, energyWh: meterWh, powerW: 11_000, elapsed: Double(readings) * 60)
            let request = MeterValuesRequest(connectorId: 1, meterValue: [sample], transactionId: transactionID)
            return (
                .meterValues(transactionId: transactionID, samples: sample.sampledValue.count),
                OCPPFrame.encodeCall(messageID: messageID, request: request)
            )
        case .stop:
            return stopMessage(messageID: messageID, at: now)
        }
    }

    private mutating func stopMessage(messageID: String, at now: Date) -> (LoadStation.CallKind, [UInt8]) {
        guard let transactionID else {
            step = .unplug
            return (.heartbeat, OCPPFrame.encodeCall(messageID: messageID, request: HeartbeatRequest()))
        }
        let request = StopTransactionRequest(
            transactionId: transactionID, meterStop: meterWh, timestamp: now, reason: .evDisconnected)
        return (.stop(request), OCPPFrame.encodeCall(messageID: messageID, request: request))
    }

    /// StartTransaction answered: charge when the id tag is accepted, else stop at once.
    mutating func started(_ response: StartTransactionResponse) {
        transactionID = response.transactionId
        readings = 0
        step =
            switch (response.idTagInfo.status == .accepted, mix) {
            case (true, .charging): .charging
            // Straight to the readings: no StatusNotification, so that nearly every message is a MeterValues.
            case (true, .meterValues): .meter(remaining: 1)
            case (false, _): .stop
            }
    }

    mutating func stopped() {
        transactionID = nil
        step = .unplug
    }

    /// A CALL that got a CALLERROR, an invalid answer or none: move on sensibly.
    mutating func refused(_ kind: LoadStation.CallKind) {
        switch kind {
        case .start: step = .unplug
        // A StopTransaction that failed is not retried here: the transaction is left
        // to the central system, as a charger that gave up would.
        case .stop: stopped()
        default: break
        }
    }

    private mutating func nextTimestamp() -> Date {
        let milliseconds = max(Int64(Date().timeIntervalSince1970 * 1000), lastTimestampMilliseconds + 1)
        lastTimestampMilliseconds = milliseconds
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
