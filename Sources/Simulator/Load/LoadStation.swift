import Foundation
import NIOCore
import OCPP
import Shared

/// One station of a load run. It boots, then sends what the schedule asks of it
/// (``turn(intended:)``), one CALL at a time as OCPP-J requires, and answers the
/// central system's commands. Confined to its channel's event loop; a few hundred
/// bytes while idle, so that one process holds tens of thousands.
final class LoadStation: WebSocketSession {
    enum Phase {
        case disconnected
        case connecting
        case booting
        case ready
    }

    /// What this station's outstanding CALL was, to read its answer.
    enum CallKind {
        case boot
        case bootStatus
        case heartbeat
        case status
        case start(StartTransactionRequest)
        case meterValues(transactionId: Int, samples: Int)
        case stop(StopTransactionRequest)
    }

    struct OutstandingCall {
        var messageID: String
        var kind: CallKind
        /// The schedule's intended send time; nil for the boot sequence, which is not measured.
        var intended: NIODeadline?
        var sentAt: NIODeadline
    }

    let identity: String
    let index: Int
    unowned let loop: LoadLoop
    private(set) var phase = Phase.disconnected
    private(set) var outstanding: OutstandingCall?
    private var channel: (any Channel)?
    var chargePoint: ChargePoint
    var traffic: StationTraffic
    /// Which of the fleet's endpoints this station uses now (taken modulo their count).
    var endpointIndex: Int
    private var nextMessageNumber: UInt64 = 0
    /// Intended send times of turns waiting for the outstanding CALL's answer or a connection.
    private var backlog = CircularBuffer<NIODeadline>(initialCapacity: 2)
    static let maximumBacklog = 1000

    init(identity: String, index: Int, loop: LoadLoop, chargePoint: ChargePoint) {
        self.identity = identity
        self.index = index
        self.loop = loop
        self.chargePoint = chargePoint
        self.endpointIndex = index
        self.traffic = StationTraffic(mix: loop.settings.mix)
    }

    var isIdle: Bool { outstanding == nil && backlog.isEmpty }

    func startConnecting() {
        phase = .connecting
        loop.connect(self)
    }

    /// The attempt failed before the upgrade: the station may be retried.
    func connectAttemptFailed() {
        phase = .disconnected
    }

    // MARK: WebSocketSession

    func connected(_ channel: any Channel) {
        self.channel = channel
        phase = .booting
        sendBoot()
    }

    func received(_ text: ByteBuffer) {
        let frame: OCPPFrame
        do {
            frame = try text.withUnsafeReadableBytes { bytes throws(FrameError) in try OCPPFrame.decode(bytes) }
        } catch {
            if let reply = error.reply { send(OCPPFrame.encodeCallError(reply)) }
            return
        }
        switch frame {
        case .call(let call):
            loop.commandReceived(messageID: call.messageID, action: call.action)
            // Load stations answer every command validly; they do not act on it.
            send(chargePoint.answer(call).frame)
        case .callResult(let result):
            guard let call = takeOutstanding(result.messageID) else { return }
            handleResult(result.payload, of: call)
        case .callError(let error):
            guard let call = takeOutstanding(error.messageID) else { return }
            loop.answered(call, errorCode: error.errorCode.rawValue)
            traffic.refused(call.kind)
            sendNext()
        }
    }

    func disconnected() {
        channel = nil
        if let outstanding, outstanding.intended != nil { loop.lost(outstanding) }
        outstanding = nil
        phase = .disconnected
        loop.stationDisconnected(self)
    }

    // MARK: Scheduled traffic

    /// The schedule's turn for this station: send now if it can, else queue the turn.
    func turn(intended: NIODeadline) {
        guard phase == .ready, outstanding == nil else {
            guard backlog.count < Self.maximumBacklog else { return loop.skipped() }
            backlog.append(intended)
            return
        }
        sendScheduled(intended: intended)
    }

    /// Gives up on a CALL unanswered for too long (the next one may then go).
    func timeOutIfOverdue(now: NIODeadline, timeout: TimeAmount) {
        guard let call = outstanding, call.sentAt + timeout < now else { return }
        outstanding = nil
        if call.intended != nil { loop.timedOut(call) }
        // A boot that got no answer is tried again.
        if phase == .booting { return sendBoot() }
        traffic.refused(call.kind)
        sendNext()
    }

    func close() {
        if let channel { WebSocketFrameHandler.sendClose(on: channel) }
    }

    /// Drops the connection without a closing handshake.
    func drop() {
        channel?.close(promise: nil)
    }

    private func sendNext() {
        guard phase == .ready, outstanding == nil, let intended = backlog.popFirst() else { return }
        sendScheduled(intended: intended)
    }

    private func sendScheduled(intended: NIODeadline) {
        let id = nextMessageID()
        let (kind, bytes) = traffic.nextMessage(identity: identity, index: index, messageID: id)
        loop.sent(kind)
        dispatch(bytes: bytes, kind: kind, intended: intended, id: id)
    }

    // MARK: Boot

    func resendBoot() {
        guard phase == .booting, outstanding == nil else { return }
        sendBoot()
    }

    private func sendBoot() {
        let request = BootNotificationRequest(
            chargePointVendor: "SwiftOCPP", chargePointModel: "ocpp-sim-load",
            chargePointSerialNumber: String(identity.suffix(25)), firmwareVersion: "1.0.0")
        let id = nextMessageID()
        dispatch(bytes: OCPPFrame.encodeCall(messageID: id, request: request), kind: .boot, intended: nil, id: id)
    }

    private func handleResult(_ payload: JSONObject, of call: OutstandingCall) {
        switch call.kind {
        case .boot:
            guard let response = try? BootNotificationResponse(json: .object(payload)) else {
                return loop.retryBoot(self, after: .seconds(5))
            }
            guard response.status == .accepted else {
                loop.bootDeferred()
                return loop.retryBoot(self, after: .seconds(Int64(max(1, min(response.interval, 60)))))
            }
            loop.bootAccepted(self)
            let status = StatusNotificationRequest(
                connectorId: 1, errorCode: .noError, status: traffic.connectorStatus, timestamp: Date())
            let id = nextMessageID()
            dispatch(
                bytes: OCPPFrame.encodeCall(messageID: id, request: status), kind: .bootStatus, intended: nil, id: id)
        case .bootStatus:
            phase = .ready
            loop.stationReady(self)
            sendNext()
        case .start(let request):
            loop.answered(call, errorCode: nil)
            guard let response = try? StartTransactionResponse(json: .object(payload)) else {
                loop.invalidAnswer()
                traffic.refused(call.kind)
                return sendNext()
            }
            loop.journal.starts.append(
                AckJournal.Start(
                    identity: identity, connectorId: request.connectorId, transactionId: response.transactionId,
                    idTag: request.idTag, meterStart: request.meterStart, timestamp: request.timestamp))
            traffic.started(response)
            sendNext()
        case .stop(let request):
            loop.answered(call, errorCode: nil)
            loop.journal.stops.append(
                AckJournal.Stop(identity: identity, transactionId: request.transactionId, meterStop: request.meterStop))
            traffic.stopped()
            sendNext()
        case .meterValues(let transactionID, let samples):
            loop.answered(call, errorCode: nil)
            loop.journal.samples[.init(identity: identity, transactionId: transactionID), default: 0] += samples
            sendNext()
        case .heartbeat, .status:
            loop.answered(call, errorCode: nil)
            sendNext()
        }
    }

    // MARK: Wire

    private func nextMessageID() -> String {
        nextMessageNumber += 1
        return String(nextMessageNumber)
    }

    private func dispatch(bytes: [UInt8], kind: CallKind, intended: NIODeadline?, id: String) {
        guard let channel else { return }
        outstanding = OutstandingCall(messageID: id, kind: kind, intended: intended, sentAt: .now())
        WebSocketFrameHandler.sendText(bytes, on: channel)
    }

    private func send(_ bytes: [UInt8]) {
        guard let channel else { return }
        WebSocketFrameHandler.sendText(bytes, on: channel)
    }

    private func takeOutstanding(_ messageID: String) -> OutstandingCall? {
        guard let call = outstanding, call.messageID == messageID else { return nil }
        outstanding = nil
        return call
    }
}
