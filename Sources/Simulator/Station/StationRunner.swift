import Foundation
import NIOCore
import OCPP
import Shared

/// One simulated station for people: connects, boots, reports, answers every
/// command and carries out what the commands ask (transactions, resets, firmware
/// and upload flows), printing each message both ways.
///
/// An actor: received messages, scheduled work (heartbeat, meter values) and
/// follow-ups of commands all reach the same ``ChargePoint`` state. Its own CALLs go
/// one at a time (OCPP-J §4.1.1), each answered or failed within the call timeout.
actor StationRunner {
    /// Why a connection ended.
    enum ConnectionEnd: Sendable {
        case finished
        case disconnected
    }

    /// Long-running work started by a command or by the connection.
    enum Job: Sendable {
        case followUp(FollowUp)
        /// Sends MeterValues every interval while this transaction runs.
        case meter(connectorId: Int, transactionId: Int)
    }

    let settings: StationSettings
    let group: any EventLoopGroup
    var chargePoint: ChargePoint
    private var link: StationLink?
    private var pending: [String: (action: String, continuation: CheckedContinuation<JSONObject, any Error>)] = [:]
    private var callInFlight = false
    private var callWaiters: [CheckedContinuation<Void, Never>] = []
    private var jobs: AsyncStream<Job>.Continuation?
    /// Set by a Reset: the next connection boots again.
    var resetRequested: ResetType?
    var needsBoot = true
    /// Readings sent per transaction (the state of charge follows them).
    var readings: [Int: Int] = [:]
    var firmwareStatus = FirmwareStatus.idle
    var diagnosticsStatus = DiagnosticsStatus.idle

    init(settings: StationSettings, group: any EventLoopGroup) {
        self.settings = settings
        self.group = group
        self.chargePoint = ChargePoint(identity: settings.identity, connectors: settings.connectors)
    }

    var printer: MessagePrinter { settings.printer }

    /// Runs the station until cancelled: boots, reports, sends heartbeats; reconnects
    /// after a lost connection and reboots after a Reset.
    func run() async throws {
        while !Task.isCancelled {
            do {
                _ = try await connectAndRun { try await $0.operate() }
            } catch is CancellationError {
                return
            } catch {
                printer.note("connection failed: \(error)")
            }
            if let reset = resetRequested {
                resetRequested = nil
                printer.note("\(reset.rawValue) reset: rebooting")
                try await Task.sleep(for: .seconds(1))
            } else {
                printer.note("disconnected; reconnecting in \(settings.reconnectDelay)")
                try await Task.sleep(for: settings.reconnectDelay)
            }
        }
    }

    /// One connection: receives and answers while `body` runs; ends when `body`
    /// returns (`.finished`) or the connection closes (`.disconnected`). Throws what
    /// `body` throws.
    func connectAndRun(_ body: @escaping @Sendable (StationRunner) async throws -> Void) async throws -> ConnectionEnd {
        let link = try await StationLink.connect(
            settings.connector, identity: settings.identity, password: settings.password, group: group)
        self.link = link
        printer.note("connected to \(settings.connector.endpoint.description)/\(settings.identity)")
        let (jobStream, jobContinuation) = AsyncStream<Job>.makeStream()
        jobs = jobContinuation
        return try await withThrowingTaskGroup(of: ConnectionEnd.self) { group in
            group.addTask {
                for await text in link.inbound { await self.receive(text) }
                return .disconnected
            }
            group.addTask {
                try await body(self)
                return .finished
            }
            group.addTask {
                await withTaskGroup(of: Void.self) { running in
                    for await job in jobStream { running.addTask { await self.carryOut(job) } }
                }
                return .disconnected
            }
            defer { group.cancelAll() }
            do {
                let end = try await group.next() ?? .disconnected
                connectionEnded()
                return end
            } catch {
                connectionEnded()
                throw error
            }
        }
    }

    /// Fails what waits for this connection, so that the tasks using it can end.
    private func connectionEnded() {
        link?.close()
        link = nil
        jobs?.finish()
        jobs = nil
        for (_, call) in pending {
            call.continuation.resume(throwing: CallRefused(action: call.action, reason: "the connection closed"))
        }
        pending = [:]
        let waiters = callWaiters
        callWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    func schedule(_ job: Job) {
        jobs?.yield(job)
    }

    func closeConnection() {
        link?.close()
    }

    // MARK: CALLs from the station

    /// Sends a CALL and returns the typed answer; a CALLERROR throws ``CallRefused``.
    func call<Request: OCPPRequest>(_ request: Request) async throws -> Request.Response {
        while callInFlight { await withCheckedContinuation { callWaiters.append($0) } }
        callInFlight = true
        defer {
            callInFlight = false
            if !callWaiters.isEmpty { callWaiters.removeFirst().resume() }
        }
        let action = Request.action.rawValue
        guard let link else { throw CallRefused(action: action, reason: "not connected") }
        let id = UUID().uuidString.lowercased()
        let bytes = OCPPFrame.encodeCall(messageID: id, request: request)
        let timeout = settings.callTimeout
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.expire(id)
        }
        defer { timer.cancel() }
        let payload = try await withCheckedThrowingContinuation { continuation in
            pending[id] = (action, continuation)
            printer.print(.sent, action, bytes)
            link.send(bytes)
        }
        do {
            return try Request.Response(json: .object(payload))
        } catch {
            throw CallRefused(action: action, reason: "invalid answer: \(error)")
        }
    }

    private func expire(_ id: String) {
        guard let call = pending.removeValue(forKey: id) else { return }
        printer.note("\(call.action): no answer within \(settings.callTimeout)")
        call.continuation.resume(throwing: CallRefused(action: call.action, reason: "no answer"))
    }

    // MARK: Messages from the central system

    private func receive(_ text: ByteBuffer) {
        let bytes = Array(text.readableBytesView)
        let frame: OCPPFrame
        do {
            frame = try OCPPFrame.decode(bytes)
        } catch {
            printer.print(.received, "(malformed: \(error))", bytes)
            if let reply = error.reply { send(OCPPFrame.encodeCallError(reply), label: "CALLERROR") }
            return
        }
        switch frame {
        case .call(let call):
            printer.print(.received, call.action, bytes)
            let answer = chargePoint.answer(call)
            let isError = answer.frame.starts(with: Array("[4,".utf8))
            send(answer.frame, label: call.action + (isError ? ".error" : ".conf"))
            for followUp in answer.followUps { schedule(.followUp(followUp)) }
        case .callResult(let result):
            guard let call = pending.removeValue(forKey: result.messageID) else {
                return printer.print(.received, "(answer to no CALL of ours)", bytes)
            }
            printer.print(.received, call.action + ".conf", bytes)
            call.continuation.resume(returning: result.payload)
        case .callError(let error):
            guard let call = pending.removeValue(forKey: error.messageID) else {
                return printer.print(.received, "(error for no CALL of ours)", bytes)
            }
            printer.print(.received, call.action + ".error", bytes)
            call.continuation.resume(
                throwing: CallRefused(
                    action: call.action, reason: "\(error.errorCode.rawValue) \(error.errorDescription)"))
        }
    }

    private func send(_ bytes: [UInt8], label: String) {
        printer.print(.sent, label, bytes)
        link?.send(bytes)
    }
}
