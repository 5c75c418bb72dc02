import CoreMetrics
import Foundation
import Logging
import NIOCore
import NIOWebSocket
import OCPP
import Shared

/// One station's connection, on its channel's event loop: feeds the
/// ``StationSessionStateMachine`` what happens and carries out what it answers.
///
/// Everything here runs on the event loop: the socket's messages, timers (scheduled
/// on the loop, costing no task), takeover and NOTIFY wake-ups (hopped onto the loop
/// by ``StationConnection``). Database work is the only thing that leaves it: each
/// step runs in a short task and its result comes back to the loop as the next
/// event. A quiet station holds no task, only this object, its socket handler and
/// its timers.
final class StationSessionHandler: StationSocketDelegate {
    typealias Machine = StationSessionStateMachine

    private var machine: Machine
    private let eventLoop: any EventLoop
    private let socket: StationSocketHandler
    private let hasSubprotocol: Bool
    private let station: StationContext
    private let steps: SessionSteps
    private let dispatch: CallDispatch
    private let delivery: CommandDelivery
    private let metrics: GatewayMetrics
    private let logger: Logger
    private var timers = ConnectionTimers<Machine.Timer>()
    /// The CALL the machine was told of, until its dispatch starts.
    private var decodedCall: (call: Call, request: StationRequest, receivedAt: Date)?
    /// Actions not yet carried out, oldest first: an action can cause an event at
    /// once (reading on hands over a message already read), whose actions wait for
    /// those before them.
    private var pendingActions: [Machine.Action] = []
    private var isRunningActions = false
    private var hasReportedClockOffset = false

    /// How long a newly connected, already accepted station may stay silent before
    /// its queue is sent anyway; normally its first message comes sooner and the
    /// queue follows that message's answer.
    static let firstMessageGrace = Duration.seconds(2)

    init(
        sessions: StationSessions, station: StationContext, registration: RegistrationStatus, hasSubprotocol: Bool,
        remoteAddress: String?, socket: StationSocketHandler, eventLoop: any EventLoop, logger: Logger
    ) {
        let dependencies = sessions.dependencies
        let identity = SessionIdentity(id: UUID(), connectedAt: RFC3339.format(Date()))
        self.eventLoop = eventLoop
        self.socket = socket
        self.hasSubprotocol = hasSubprotocol
        self.station = station
        self.metrics = dependencies.metrics
        self.logger = logger
        steps = SessionSteps(
            sessions: sessions, station: station, identity: identity, remoteAddress: remoteAddress, logger: logger)
        var decodingOptions = dependencies.decodingOptions
        if let mode = station.validationMode { decodingOptions.mode = mode }
        dispatch = CallDispatch(
            station: station, sessionID: identity.id, dependencies: dependencies, decodingOptions: decodingOptions,
            logger: logger)
        delivery = CommandDelivery(
            stationID: station.stationID, gatewayID: dependencies.gatewayID, store: dependencies.outbound,
            outcomes: dependencies.metrics.commands, logger: logger)
        machine = Machine(
            registration: registration,
            configuration: .init(
                callTimeout: dependencies.callTimeout, firstMessageGrace: Self.firstMessageGrace,
                messageRate: sessions.maxMessageRate, messageBurst: sessions.messageBurst),
            now: .now)
    }

    /// Starts the session: called once, on the event loop, after the socket handler
    /// knows its delegate.
    func start() {
        if !hasSubprotocol {
            // OCPP-J 1.6 section 3.1.2: the machine closes such a connection at once.
            metrics.subprotocolMissing.increment()
            logger.notice("connection without the ocpp1.6 subprotocol closed")
        }
        run(machine.started(hasSubprotocol: hasSubprotocol))
    }

    // MARK: Events from the socket

    func socket(_ socket: StationSocket, received message: StationSocketMessage) {
        run(machine.messageReceived(message, now: .now))
    }

    func socketIsIdle(_ socket: StationSocket) {
        metrics.idleDisconnects.increment()
        logger.notice("no message for the idle timeout: disconnected")
        run(machine.closeRequested(.init(code: .normalClosure, reason: "idle")))
    }

    func socketClosed(_ socket: StationSocket) {
        run(machine.socketClosed())
    }

    // MARK: Events from the rest of the gateway (via StationConnection)

    func closeRequested(_ request: Machine.CloseRequest) {
        run(machine.closeRequested(request))
    }

    func wake() {
        run(machine.wake())
    }

    // MARK: Carrying out actions

    private func run(_ actions: [Machine.Action]) {
        pendingActions += actions
        guard !isRunningActions else { return }
        isRunningActions = true
        defer { isRunningActions = false }
        while !pendingActions.isEmpty {
            perform(pendingActions.removeFirst())
        }
    }

    private func perform(_ action: Machine.Action) {
        switch action {
        case .openSession:
            openSession()
        case .readNextMessage:
            socket.ready()
        case .handleMessage(let text):
            handle(text: text)
        case .dispatchCall:
            dispatchCall()
        case .send(let bytes):
            write(bytes)
        case .sendCallError(let error):
            metrics.callError(error.errorCode)
            write(OCPPFrame.encodeCallError(error))
        case .claimNextCommand:
            step({ [delivery] in await delivery.claimNext() }) { handler, claim in
                handler.claimed(claim)
            }
        case .sendCommand(let frame):
            write(frame)
        case .releaseCommand(let messageID):
            step({ [delivery] in await delivery.release(messageID: messageID) }) { _, _ in [] }
        case .recordOutcome(let call, let outcome):
            step({ [delivery] in await delivery.record(call, outcome) }) { handler, _ in
                handler.machine.outcomeRecorded()
            }
        case .startTimer(let timer, let delay):
            timers.arm(timer, at: eventLoop.now + .init(delay), on: eventLoop, owner: self, timers: \.timers) {
                handler in
                handler.run(handler.machine.timerFired(timer, now: .now))
            }
        case .cancelTimer(let timer):
            timers.disarm(timer)
        case .close(let request):
            socket.close(code: request.code, reason: request.reason, promise: nil)
        case .endSession:
            step({ [steps] in await steps.end() }) { _, _ in [] }
        case .reportRateLimited(let firstTime):
            metrics.rateLimited.increment()
            if firstTime { logger.notice("more than \(steps.maxMessageRate) messages a second: slowed down") }
        }
    }

    private func write(_ bytes: [UInt8]) {
        socket.write(text: ByteBuffer(bytes: bytes), promise: nil)
    }

    /// Runs database work in a task of its own; its result comes back to the event
    /// loop, where `then` turns it into the machine's next actions.
    private func step<Result: Sendable>(
        _ work: @escaping @Sendable () async -> Result,
        then: @escaping (StationSessionHandler, Result) -> [Machine.Action]
    ) {
        eventLoop.makeFutureWithTask(work).assumeIsolated().whenSuccess { [self] result in
            run(then(self, result))
        }
    }

    // MARK: Session

    private func openSession() {
        let handle = StationConnection(station: station, sessionID: steps.identity.id, session: self, on: eventLoop)
        step({ [steps] in await steps.open(handle) }) { handler, outcome in
            switch outcome {
            case .opened(let draining): handler.machine.sessionOpened(draining: draining)
            case .failed: handler.machine.sessionFailed()
            }
        }
    }

    // MARK: The station's messages

    /// Decodes one text message and tells the machine what it is.
    private func handle(text: String) {
        let receivedAt = Date()
        let frame: OCPPFrame
        do {
            frame = try OCPPFrame.decode(text.utf8)
        } catch {
            metrics.invalidFrames.increment()
            logger.notice("invalid frame: \(error)")
            return run(machine.messageRefused(error.reply))
        }
        switch frame {
        case .call(let call):
            let request: StationRequest
            do {
                request = try StationRequest(call, options: dispatch.decodingOptions)
            } catch {
                let action = OCPPAction(rawValue: call.action)?.rawValue
                logger.notice("refused \(action ?? "unknown action"): \(error)")
                metrics.message(action ?? "unknown", outcome: "error")
                return run(machine.messageRefused(CallError(messageID: call.messageID, validationError: error)))
            }
            let action = request.action
            decodedCall = (call, request, receivedAt)
            let actions = machine.callReceived(messageID: call.messageID, action: action)
            if actions.contains(where: \.isCallError) { metrics.message(action.rawValue, outcome: "error") }
            run(actions)
        case .callResult(let result):
            run(machine.callResultReceived(result))
        case .callError(let error):
            run(machine.callErrorReceived(error))
        }
    }

    /// Most CALLs (MeterValues, StatusNotification, Heartbeat …) are answered without
    /// a database read: their row goes to the ingest writer from here, and its
    /// outcome comes back to the loop, with no task. The others read first, in a step.
    private func dispatchCall() {
        guard let (call, request, receivedAt) = decodedCall else { return }
        decodedCall = nil
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        let answeredAtOnce = dispatch.answerAtOnce(
            call, request: request, receivedAt: receivedAt, on: eventLoop
        ) { outcome in
            // On this loop, the ingest writer's or the immediate refusal's.
            handler.value.run(handler.value.called(outcome, receivedAt: receivedAt))
        }
        guard !answeredAtOnce else { return }
        step({ [dispatch] in await dispatch.answer(call, request: request, receivedAt: receivedAt) }) {
            handler, outcome in
            handler.called(outcome, receivedAt: receivedAt)
        }
    }

    /// The machine's actions for the outcome of a station's CALL.
    private func called(_ outcome: CallDispatch.Outcome, receivedAt: Date) -> [Machine.Action] {
        switch outcome {
        case .answered(let answer, let registration, let stationTime):
            if let stationTime { track(stationTime: stationTime, receivedAt: receivedAt) }
            return machine.callCommitted(answer: answer, registration: registration)
        case .refused(let reply):
            return machine.callNotAnswered(reply)
        }
    }

    /// The station's clock minus ours, as a metric and (written every few seconds by
    /// ``ClockOffsetWriter``) on its session row; logged once per connection when it
    /// is over a minute.
    private func track(stationTime: Date, receivedAt: Date) {
        let offset = stationTime.timeIntervalSince(receivedAt)
        metrics.clockOffset.record(offset)
        dispatch.clockOffsets.note(
            stationID: station.stationID, sessionID: steps.identity.id, milliseconds: Int64((offset * 1000).rounded()))
        if abs(offset) > 60, !hasReportedClockOffset {
            hasReportedClockOffset = true
            logger.notice("station clock is off by \(Int(offset)) s")
        }
    }

    // MARK: Queued commands

    private func claimed(_ claim: CommandDelivery.Claim) -> [Machine.Action] {
        switch claim {
        case .command(let call, let frame): machine.commandClaimed(call, frame: frame)
        case .unfit: machine.commandUnfit()
        case .nothingDue(let nextDueIn): machine.nothingDue(nextDueIn: nextDueIn)
        case .failed: machine.claimFailed()
        }
    }
}

extension StationSessionStateMachine.Action {
    fileprivate var isCallError: Bool {
        if case .sendCallError = self { return true }
        return false
    }
}
